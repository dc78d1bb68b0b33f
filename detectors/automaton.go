package detectors

// automaton is a case-insensitive Aho-Corasick automaton compiled to a dense DFA over byte
// classes. Measured here: the public Aho-Corasick libraries run at 78–137 MiB/s on prompt text,
// a dense table at 360+; the inner loop below is one column lookup, one table load and one sign
// test per byte.
//
// Bytes that occur in no keyword share class 0, and upper-case letters share the class of their
// lower-case form, so the table stays small (states × classes).
type automaton struct {
	// The transition table is column-major: the next state of state s on a byte b is
	// trans[col[b]+s]. States are numbered from 0 (the root) up for those without outputs and
	// from -1 down for those with outputs, each side breadth first: a negative state says
	// "report", and the shallow states, where a walk spends nearly all its time, are adjacent
	// around 0 in every column (trie order scatters them over the whole table). col[b] is
	// class*states + nout, so that every index is non-negative, and it is added off the chain of
	// dependent loads. An entry is 2 bytes while the states fit (trans16): with 4-byte entries
	// the table of the built-in keywords (3,500 states × 58 classes, 800 KB) crowded the caches
	// the detectors need, and walks waited on it. More keywords fall back to trans32.
	trans16 []int16
	trans32 []int32
	col     [256]int
	nout    int     // states with outputs
	outputs [][]int // state+nout -> keyword indices that end there (failure chain merged)
	depth   []int32 // state+nout -> length of the keyword prefix it stands for
	lens    []int   // keyword index -> length
	maxLen  int
}

// state is the type of a transition table entry.
type state interface{ ~int16 | ~int32 }

func buildAutomaton(keywords []string) *automaton {
	a := &automaton{lens: make([]int, len(keywords))}
	// Byte classes.
	var class [256]uint8
	next := uint8(1)
	for _, kw := range keywords {
		for i := 0; i < len(kw); i++ {
			c := kw[i]
			if class[c] == 0 {
				class[c] = next
				if c >= 'a' && c <= 'z' {
					class[c-'a'+'A'] = next
				}
				next++
			}
		}
	}
	nclass := int(next)

	// Trie.
	type node struct {
		next  map[uint8]int
		fail  int
		out   []int
		depth int32
	}
	nodes := []node{{next: map[uint8]int{}}}
	for k, kw := range keywords {
		a.lens[k] = len(kw)
		a.maxLen = max(a.maxLen, len(kw))
		s := 0
		for i := 0; i < len(kw); i++ {
			c := class[kw[i]]
			t, ok := nodes[s].next[c]
			if !ok {
				t = len(nodes)
				nodes = append(nodes, node{next: map[uint8]int{}, depth: nodes[s].depth + 1})
				nodes[s].next[c] = t
			}
			s = t
		}
		nodes[s].out = append(nodes[s].out, k)
	}

	// Failure links breadth first, then the full transition table (row-major, trie numbering).
	trans := make([]int, len(nodes)*nclass)
	queue := []int{}
	for c := 0; c < nclass; c++ {
		if t, ok := nodes[0].next[uint8(c)]; ok {
			nodes[t].fail = 0
			queue = append(queue, t)
			trans[c] = t
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := nodes[s].fail
		nodes[s].out = append(nodes[s].out, nodes[f].out...)
		for c := 0; c < nclass; c++ {
			if t, ok := nodes[s].next[uint8(c)]; ok {
				nodes[t].fail = trans[f*nclass+c]
				queue = append(queue, t)
				trans[s*nclass+c] = t
			} else {
				trans[s*nclass+c] = trans[f*nclass+c]
			}
		}
	}
	// Number the states breadth first, those with outputs below 0 (see automaton).
	order := make([]int, 0, len(nodes)) // breadth-first order -> trie node
	order = append(order, 0)
	for i := 0; i < len(order); i++ {
		s := order[i]
		for c := 0; c < nclass; c++ {
			if t, ok := nodes[s].next[uint8(c)]; ok {
				order = append(order, t)
			}
		}
	}
	renum := make([]int, len(nodes)) // trie node -> state
	up, down := 0, -1
	for _, s := range order {
		if len(nodes[s].out) > 0 {
			renum[s] = down
			down--
		} else {
			renum[s] = up
			up++
		}
	}
	a.nout = -down - 1
	n := len(nodes)
	if up <= 1<<15 && a.nout <= 1<<15 {
		a.trans16 = make([]int16, n*nclass)
	} else {
		a.trans32 = make([]int32, n*nclass)
	}
	a.outputs = make([][]int, n)
	a.depth = make([]int32, n)
	for s := range nodes {
		r := renum[s] + a.nout
		a.outputs[r] = nodes[s].out
		a.depth[r] = nodes[s].depth
		for c := 0; c < nclass; c++ {
			if a.trans16 != nil {
				a.trans16[c*n+r] = int16(renum[trans[s*nclass+c]])
			} else {
				a.trans32[c*n+r] = int32(renum[trans[s*nclass+c]])
			}
		}
	}
	for b := range a.col {
		a.col[b] = int(class[b])*n + a.nout
	}
	return a
}

// scan calls hit(keyword, start) for every occurrence of every keyword in text, in no
// particular order.
//
// The walk is a chain of dependent table loads, one per byte, so a single walk is bound by
// load latency, not by the core's width. A text of some length is therefore cut in four parts
// walked together in one loop, each from the root state at the start of its part. A walk reports
// the keywords that start in its part: past the end of its part it goes on (tail) only while its
// state could still be inside a keyword that started in its part, which its depth says, and then
// stops; usually that is a few bytes. Measured here (492 keywords, 3066 states): two halves that
// overlapped by the longest keyword ran at 1.5-1.7x one walk; four parts with depth-bounded tails
// run at 1.5x the two halves. The four loads are stepped in walk4, which calls nothing, so that
// the states stay in registers (with the reports inline they were spilled every byte).
func (a *automaton) scan(text string, hit func(kw, start int)) {
	switch {
	case len(a.lens) == 0:
	case a.trans16 != nil:
		scan(a, a.trans16, walk4, text, hit)
	default:
		scan(a, a.trans32, walk4Wide, text, hit)
	}
}

// step4 is walk4 or walk4Wide.
type step4[T state] func(trans []T, col *[256]int, t0, t1, t2, t3 string, i int, s0, s1, s2, s3 int) (int, int, int, int, int)

func scan[T state](a *automaton, trans []T, walk4 step4[T], text string, hit func(kw, start int)) {
	if len(text) < 64 {
		walk(a, trans, text, 0, 0, len(text), hit)
		return
	}
	q := len(text) / 4
	t0, t1, t2, t3 := text[:q], text[q:2*q], text[2*q:3*q], text[3*q:]
	t1, t2 = t1[:len(t0)], t2[:len(t0)]
	var s0, s1, s2, s3 int
	for i := 0; ; i++ {
		i, s0, s1, s2, s3 = walk4(trans, &a.col, t0, t1, t2, t3, i, s0, s1, s2, s3)
		if i >= len(t0) {
			break
		}
		if s0 < 0 {
			a.report(s0, i, hit)
		}
		if s1 < 0 {
			a.report(s1, q+i, hit)
		}
		if s2 < 0 {
			a.report(s2, 2*q+i, hit)
		}
		if s3 < 0 {
			a.report(s3, 3*q+i, hit)
		}
	}
	// The last part (the longest) goes on alone to the end, then the others finish their tails.
	walk(a, trans, text, 4*q, s3, len(text), hit)
	tail(a, trans, text, q, s0, q, hit)
	tail(a, trans, text, 2*q, s1, 2*q, hit)
	tail(a, trans, text, 3*q, s2, 3*q, hit)
}

// walk4 steps the four walks from t*[i] on until one of them reaches a state with outputs (then
// it returns that i) or the end of t0 (then it returns len(t0)). It calls nothing, so that the
// compiler keeps the four states in registers. It is not generic: the dictionary argument of a
// generic one took a register, and a state was spilled every byte.
func walk4(trans []int16, col *[256]int, t0, t1, t2, t3 string, i int, s0, s1, s2, s3 int) (int, int, int, int, int) {
	t1, t2, t3 = t1[:len(t0)], t2[:len(t0)], t3[:len(t0)]
	for ; i < len(t0); i++ {
		s0 = int(trans[col[t0[i]]+s0])
		s1 = int(trans[col[t1[i]]+s1])
		s2 = int(trans[col[t2[i]]+s2])
		s3 = int(trans[col[t3[i]]+s3])
		if s0|s1|s2|s3 < 0 {
			return i, s0, s1, s2, s3
		}
	}
	return i, s0, s1, s2, s3
}

// walk4Wide is walk4 over a table of 4-byte entries.
func walk4Wide(trans []int32, col *[256]int, t0, t1, t2, t3 string, i int, s0, s1, s2, s3 int) (int, int, int, int, int) {
	t1, t2, t3 = t1[:len(t0)], t2[:len(t0)], t3[:len(t0)]
	for ; i < len(t0); i++ {
		s0 = int(trans[col[t0[i]]+s0])
		s1 = int(trans[col[t1[i]]+s1])
		s2 = int(trans[col[t2[i]]+s2])
		s3 = int(trans[col[t3[i]]+s3])
		if s0|s1|s2|s3 < 0 {
			return i, s0, s1, s2, s3
		}
	}
	return i, s0, s1, s2, s3
}

// report reports the keywords ending at end in state s.
func (a *automaton) report(s int, end int, hit func(kw, start int)) {
	for _, k := range a.outputs[s+a.nout] {
		hit(k, end+1-a.lens[k])
	}
}

// walk walks text[from:to] starting in state s, reporting every keyword that ends there.
func walk[T state](a *automaton, trans []T, text string, from int, s int, to int, hit func(kw, start int)) {
	col := &a.col
	for i := from; i < to; i++ {
		s = int(trans[col[text[i]]+s])
		if s < 0 {
			a.report(s, i, hit)
		}
	}
}

// tail walks on from text[from] in state s while a keyword that starts before limit may still
// end ahead, reporting only those.
func tail[T state](a *automaton, trans []T, text string, from int, s int, limit int, hit func(kw, start int)) {
	col := &a.col
	for i := from; i < len(text) && i-int(a.depth[s+a.nout]) < limit; i++ {
		s = int(trans[col[text[i]]+s])
		if s < 0 {
			for _, k := range a.outputs[s+a.nout] {
				if start := i + 1 - a.lens[k]; start < limit {
					hit(k, start)
				}
			}
		}
	}
}

// first returns the start of the first keyword hit in text, stopping there; with atStart only a
// hit at offset 0 counts.
func (a *automaton) first(text string, atStart bool) (int, bool) {
	switch {
	case len(a.lens) == 0:
		return 0, false
	case a.trans16 != nil:
		return first(a, a.trans16, text, atStart)
	}
	return first(a, a.trans32, text, atStart)
}

func first[T state](a *automaton, trans []T, text string, atStart bool) (int, bool) {
	col := &a.col
	s := 0
	for i := 0; i < len(text); i++ {
		s = int(trans[col[text[i]]+s])
		if s < 0 {
			for _, k := range a.outputs[s+a.nout] {
				start := i + 1 - a.lens[k]
				if !atStart || start == 0 {
					return start, true
				}
			}
		}
	}
	return 0, false
}
