package fingerprint

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unsafe"
)

// Stats counts what AddTree indexed and skipped.
type Stats struct {
	Files, Bytes, Prints     int64 // indexed files, their bytes, their prints (before Build drops boilerplate)
	CodeFiles, DocumentFiles int64
	// Skipped counts skipped paths by reason (the Skip* constants, or a DOCX error). A skipped
	// directory counts once.
	Skipped map[string]int64
	// Skips lists the first maxSkips skipped paths with their reasons, for the operator.
	Skips []Skip
}

// Skip is one path AddTree did not index.
type Skip struct {
	Name, Reason string
}

const maxSkips = 1000

// Reasons in Stats.Skipped.
const (
	SkipGitignored  = "gitignored"
	SkipIgnored     = "ignored (operator's list)"
	SkipVendored    = "vendored directory"
	SkipCacheDir    = "build or cache directory"
	SkipGenerated   = "generated"
	SkipMinified    = "minified"
	SkipLockFile    = "lock file"
	SkipLicence     = "licence file"
	SkipBinary      = "binary"
	SkipTooLarge    = "too large"
	SkipEmpty       = "empty"
	SkipSymlink     = "symlink"
	SkipIrregular   = "not a regular file"
	SkipUnreadable  = "unreadable"
	SkipPDF         = "PDF: convert to text first (pdftotext FILE.pdf)"
	SkipOfficeOther = "office format: save as DOCX or text first"
	SkipGitMeta     = "git metadata"
)

var (
	vcsDirs      = map[string]bool{".git": true, ".hg": true, ".svn": true, ".bzr": true, "_darcs": true, ".jj": true}
	vendoredDirs = map[string]bool{"vendor": true, "node_modules": true, "bower_components": true,
		"third_party": true, "third-party": true, "thirdparty": true, ".venv": true, "venv": true,
		"site-packages": true, "Pods": true, "Carthage": true, ".bundle": true}
	cacheDirs = map[string]bool{"__pycache__": true, ".mypy_cache": true, ".pytest_cache": true,
		".ruff_cache": true, ".tox": true, ".gradle": true, ".terraform": true, ".next": true,
		".nuxt": true, ".cache": true}
	lockFiles = map[string]bool{"package-lock.json": true, "npm-shrinkwrap.json": true, "yarn.lock": true,
		"pnpm-lock.yaml": true, "bun.lockb": true, "go.sum": true, "go.work.sum": true, "Cargo.lock": true,
		"poetry.lock": true, "Pipfile.lock": true, "Gemfile.lock": true, "composer.lock": true,
		"mix.lock": true, "flake.lock": true, "packages.lock.json": true, "pubspec.lock": true,
		"Podfile.lock": true, "uv.lock": true, "gradle.lockfile": true}
	binaryExt = map[string]bool{}
	officeExt = map[string]bool{".doc": true, ".xls": true, ".xlsx": true, ".ppt": true, ".pptx": true,
		".odt": true, ".ods": true, ".odp": true, ".pages": true, ".key": true, ".numbers": true}
)

func init() {
	for _, e := range strings.Fields(`png jpg jpeg gif bmp ico icns tif tiff webp avif heic psd ai sketch fig
		zip gz tgz bz2 xz zst 7z rar tar jar war ear apk ipa dmg iso img deb rpm msi whl egg
		exe dll so dylib a o obj lib bin dat class pyc pyo pyd wasm beam
		woff woff2 ttf otf eot mp3 mp4 m4a wav ogg flac mov avi mkv webm
		sqlite db mdb parquet avro orc arrow npy npz pkl pt pth onnx safetensors h5 ckpt
		pem der p12 pfx jks keystore gpg`) {
		binaryExt["."+e] = true
	}
}

// AddTree indexes the files under root (or root itself, if it is a file) under label, reading
// one file at a time; names are recorded relative to root, with slashes. class applies to every
// file ("" guesses each from its name). It honours .gitignore files at every level and
// .git/info/exclude, then Options.Ignore; it skips version-control, vendored and cache
// directories, symlinks, binary, empty and over-large files, lock, licence, generated and
// minified files, and PDFs (with a message to convert them); it reads DOCX files through their
// text. Skipped paths are counted by reason in the Stats; only a root that cannot be read, or a
// Builder error, is an error.
func (b *Builder) AddTree(label string, class Class, root string) (Stats, error) {
	st := Stats{Skipped: map[string]int64{}}
	if b.built {
		return st, errBuilt
	}
	if class != "" && !validClass(class) {
		return st, fmt.Errorf("fingerprint: class %q: want %q, %q or empty", class, Code, Document)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return st, fmt.Errorf("fingerprint: %w", err)
	}
	w := &walker{b: b, label: label, class: class, st: &st, max: b.o.MaxFileSize}
	if w.max <= 0 {
		w.max = DefaultMaxFileSize
	}
	if !fi.IsDir() {
		if !fi.Mode().IsRegular() {
			w.skip(filepath.Base(root), SkipIrregular)
			return st, nil
		}
		return st, w.file(root, filepath.Base(root))
	}
	var lists []ignoreList
	if data, err := os.ReadFile(filepath.Join(root, ".git", "info", "exclude")); err == nil {
		lists = append(lists, parseIgnore("", string(data)))
	}
	op := parseIgnore("", strings.Join(b.o.Ignore, "\n"))
	op.operator = true
	w.operator = op
	return st, w.dir(root, "", lists)
}

type walker struct {
	b        *Builder
	label    string
	class    Class
	st       *Stats
	max      int64
	operator ignoreList
}

func (w *walker) skip(rel, reason string) {
	w.st.Skipped[reason]++
	if len(w.st.Skips) < maxSkips {
		w.st.Skips = append(w.st.Skips, Skip{rel, reason})
	}
}

// dir walks one directory. lists are the ignore lists of its ancestors; its own .gitignore is
// appended for its subtree only.
func (w *walker) dir(abs, rel string, lists []ignoreList) error {
	entries, err := os.ReadDir(abs)
	if err != nil {
		if rel == "" {
			return fmt.Errorf("fingerprint: %w", err)
		}
		w.skip(rel, SkipUnreadable)
		return nil
	}
	if data, err := os.ReadFile(filepath.Join(abs, ".gitignore")); err == nil {
		lists = append(lists[:len(lists):len(lists)], parseIgnore(rel, string(data)))
	}
	all := append(lists[:len(lists):len(lists)], w.operator)
	for _, e := range entries {
		name := e.Name()
		r := name
		if rel != "" {
			r = rel + "/" + name
		}
		isDir := e.IsDir()
		if isDir && vcsDirs[name] {
			continue
		}
		if ign, byOp := ignored(all, r, isDir); ign {
			if byOp {
				w.skip(r, SkipIgnored)
			} else {
				w.skip(r, SkipGitignored)
			}
			continue
		}
		p := filepath.Join(abs, name)
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			// a link may leave the tree or loop; what it points to is indexed where it lives
			w.skip(r, SkipSymlink)
		case isDir && vendoredDirs[name]:
			w.skip(r, SkipVendored)
		case isDir && cacheDirs[name]:
			w.skip(r, SkipCacheDir)
		case isDir:
			if err := w.dir(p, r, lists); err != nil {
				return err
			}
		case !e.Type().IsRegular():
			w.skip(r, SkipIrregular)
		default:
			if err := w.file(p, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// file indexes one regular file, or counts why not. Its error is the Builder's, not the file's.
func (w *walker) file(abs, rel string) error {
	if reason := skipByName(path.Base(rel)); reason != "" {
		w.skip(rel, reason)
		return nil
	}
	// no stat first: reading up to max+1 bytes tells the size, in fewer system calls
	data, err := readFile(abs, w.b.buf, w.max)
	w.b.buf = data[:0]
	switch {
	case err != nil:
		w.skip(rel, SkipUnreadable)
		return nil
	case int64(len(data)) > w.max:
		w.skip(rel, SkipTooLarge)
		return nil
	case len(data) == 0:
		w.skip(rel, SkipEmpty)
		return nil
	}
	ext := strings.ToLower(path.Ext(rel))
	var text string
	switch {
	case ext == ".pdf" || bytes.HasPrefix(data, []byte("%PDF-")):
		w.skip(rel, SkipPDF)
		return nil
	case ext == ".docx":
		t, err := docxText(data, 8*w.max)
		if err != nil {
			w.skip(rel, reasonOf(err))
			return nil
		}
		text = t
	default:
		if reason := skipByContent(data); reason != "" {
			w.skip(rel, reason)
			return nil
		}
		// The buffer is reused for the next file; the Builder keeps no reference to the text,
		// so reading it as a string without a copy is safe and saves a copy of every byte.
		text = unsafe.String(unsafe.SliceData(data), len(data))
	}
	before := w.b.nEntries
	if err := w.b.AddFile(w.label, w.class, rel, text); err != nil {
		return err
	}
	f := w.b.files[len(w.b.files)-1]
	w.st.Files++
	w.st.Bytes += int64(len(data))
	w.st.Prints += int64(w.b.nEntries - before)
	if f.class == classCode {
		w.st.CodeFiles++
	} else {
		w.st.DocumentFiles++
	}
	return nil
}

// reasonOf turns a DOCX error into a Skipped reason: its first line, without per-file detail.
func reasonOf(err error) string {
	s := err.Error()
	if i := strings.Index(s, ": "); i >= 0 {
		if j := strings.Index(s[i+2:], ": "); j >= 0 {
			return s[:i+2+j]
		}
	}
	return s
}

// grow returns buf's contents in a buffer twice as large (at least 64 KiB, at most limit+1 bytes).
func grow(buf []byte, limit int64) []byte {
	n := min(int64(max(2*len(buf), 64<<10)), limit+1)
	nb := make([]byte, n)
	copy(nb, buf)
	return nb
}

func skipByName(base string) string {
	lower := strings.ToLower(base)
	ext := path.Ext(lower)
	switch {
	case base == ".gitignore" || base == ".gitattributes" || base == ".gitmodules" || base == ".gitkeep":
		return SkipGitMeta
	case lockFiles[base] || ext == ".lock":
		return SkipLockFile
	case isLicenceName(lower):
		return SkipLicence
	case strings.HasSuffix(lower, ".min.js") || strings.HasSuffix(lower, ".min.css") || ext == ".map":
		return SkipMinified
	case binaryExt[ext]:
		return SkipBinary
	case officeExt[ext]:
		return SkipOfficeOther
	}
	return ""
}

func isLicenceName(lower string) bool {
	for _, p := range []string{"license", "licence", "copying", "notice", "patents", "unlicense"} {
		if lower == p || strings.HasPrefix(lower, p+".") || strings.HasPrefix(lower, p+"-") || strings.HasPrefix(lower, p+"_") {
			return true
		}
	}
	return false
}

// skipByContent recognises binary, generated and minified files from their bytes.
func skipByContent(data []byte) string {
	head := data[:min(len(data), 8000)]
	if bytes.IndexByte(head, 0) >= 0 { // git's test for binary files
		return SkipBinary
	}
	if generated(head) {
		return SkipGenerated
	}
	if len(data) > 2048 && len(data)/(bytes.Count(data, []byte{'\n'})+1) > 300 {
		return SkipMinified // or one-line data: either way no one pastes it as written
	}
	return ""
}

// generated recognises the markers of generated files in their first lines: Go's
// "Code generated ... DO NOT EDIT.", "@generated" (Facebook, Rust, Bazel), "<auto-generated"
// (.NET), and "do not edit" with "generated by/from", "autogenerated" and the like.
func generated(head []byte) bool {
	if !bytes.Contains(head, []byte("enerated")) && !bytes.Contains(head, []byte("ENERATED")) {
		return false // nearly every file: no need to look at its lines
	}
	for i := 0; i < 40 && len(head) > 0; i++ {
		line := head
		if j := bytes.IndexByte(head, '\n'); j >= 0 {
			line, head = head[:j], head[j+1:]
		} else {
			head = nil
		}
		if len(line) > 300 {
			continue
		}
		l := bytes.ToLower(line)
		if bytes.Contains(l, []byte("@generated")) || bytes.Contains(l, []byte("<auto-generated")) {
			return true
		}
		if !bytes.Contains(l, []byte("do not edit")) {
			continue
		}
		for _, m := range []string{"code generated", "generated by", "generated from", "autogenerated", "auto-generated", "file is generated"} {
			if bytes.Contains(l, []byte(m)) {
				return true
			}
		}
	}
	return false
}
