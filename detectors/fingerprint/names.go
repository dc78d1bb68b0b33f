package fingerprint

import (
	"encoding/binary"
	"errors"
)

// File names are front-coded: each name is stored as the length of the prefix it shares with the
// previous name and the rest, restarting every nameBlock names so that one name decodes in at
// most nameBlock steps. Names come in walk order and share long directory prefixes: a tree's
// names take about a third of their plain size, in memory and on disk alike. Only matches
// decode a name.
const nameBlock = 16

type nameList struct {
	data   []byte
	blocks []uint32 // offset in data of every nameBlock-th name
	n      int
	prev   string // builder: the last name added
}

func (l *nameList) add(name string) {
	shared := 0
	if l.n%nameBlock == 0 {
		l.blocks = append(l.blocks, uint32(len(l.data)))
	} else {
		for shared < len(l.prev) && shared < len(name) && l.prev[shared] == name[shared] {
			shared++
		}
	}
	l.data = binary.AppendUvarint(l.data, uint64(shared))
	l.data = binary.AppendUvarint(l.data, uint64(len(name)-shared))
	l.data = append(l.data, name[shared:]...)
	l.prev = name
	l.n++
}

// get decodes name i.
func (l *nameList) get(i int) string {
	var buf [256]byte
	cur := buf[:0]
	p := int(l.blocks[i/nameBlock])
	for j := i - i%nameBlock; ; j++ {
		shared, n1 := binary.Uvarint(l.data[p:])
		rest, n2 := binary.Uvarint(l.data[p+n1:])
		p += n1 + n2
		cur = append(cur[:shared], l.data[p:p+int(rest)]...)
		p += int(rest)
		if j == i {
			return string(cur)
		}
	}
}

// parseNames checks data holds n front-coded names, as get relies on, and indexes its blocks.
func parseNames(data []byte, n int) (nameList, error) {
	l := nameList{data: data, n: n}
	p, prevLen := 0, 0
	for i := range n {
		if i%nameBlock == 0 {
			l.blocks = append(l.blocks, uint32(p))
		}
		shared, n1 := binary.Uvarint(data[p:])
		if n1 <= 0 {
			return l, errors.New("bad name prefix")
		}
		rest, n2 := binary.Uvarint(data[p+n1:])
		if n2 <= 0 || rest > uint64(len(data)-p-n1-n2) {
			return l, errors.New("bad name length")
		}
		if shared > uint64(prevLen) || i%nameBlock == 0 && shared != 0 {
			return l, errors.New("name prefix out of range")
		}
		p += n1 + n2 + int(rest)
		prevLen = int(shared + rest)
	}
	if p != len(data) {
		return l, errors.New("trailing name bytes")
	}
	return l, nil
}

func (l *nameList) memSize() int64 { return int64(len(l.data)) + 4*int64(len(l.blocks)) }
