// Package names writes file names, which are bytes, in text formats
// without losing a byte:
//   - Escape and Unescape: one line, C-style: \\ \t \n \r, and \xNN for
//     other control bytes and for bytes that are not UTF-8;
//   - AppendJSON and DecodeJSON: a JSON string with valid UTF-8 as JSON
//     writes it and each byte that is not UTF-8 as a lone low surrogate
//     \udc80-\udcff, the "surrogateescape" of PEP 383: Python's os.fsencode
//     turns such a string back into the original bytes.
package names

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Escape writes a file name on one line, reversibly: backslash, tab,
// newline and carriage return as \\ \t \n \r; other control bytes and bytes
// that are not UTF-8 as \xNN. Names without such bytes are unchanged.
func Escape(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == utf8.RuneError && n == 1, r < 0x20, r == 0x7f:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return true
		}
	}
	return !utf8.ValidString(s)
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}

// Unescape reverses Escape.
func Unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", errors.New("trailing backslash")
		}
		i++
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'x':
			if i+2 >= len(s) {
				return "", errors.New(`truncated \x escape`)
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", errors.New(`bad \x escape`)
			}
			b.WriteByte(byte(v))
			i += 2
		default:
			return "", errors.New(`unknown escape \` + string(s[i]))
		}
	}
	return b.String(), nil
}

// AppendJSON appends s as a JSON string literal, writing each byte
// that is not UTF-8 as a lone surrogate \udc80-\udcff (PEP 383).
func AppendJSON(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		// Copy a run of printable ASCII other than '"' and '\\' at once: most
		// names are nothing else.
		j := i
		for j < len(s) && jsonSafe[s[j]] {
			j++
		}
		if j > i {
			dst = append(dst, s[i:j]...)
			if i = j; i == len(s) {
				break
			}
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			dst = append(dst, `\udc`...)
			dst = append(dst, hex2(s[i])...)
		case r == '"' || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r == '\n':
			dst = append(dst, `\n`...)
		case r == '\t':
			dst = append(dst, `\t`...)
		case r == '\r':
			dst = append(dst, `\r`...)
		case r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029':
			dst = append(dst, `\u`...)
			dst = append(dst, hex2(byte(r>>8))...)
			dst = append(dst, hex2(byte(r))...)
		default:
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return append(dst, '"')
}

// jsonSafe marks the bytes AppendJSON copies as they are.
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// DecodeJSON decodes a JSON string literal written by this package
// (or any JSON encoder) into bytes, turning lone surrogates \udc80-\udcff
// back into the single bytes they stand for. encoding/json cannot do this:
// it replaces lone surrogates with U+FFFD.
func DecodeJSON(lit string) (string, error) {
	if len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
		return "", errors.New("not a JSON string")
	}
	s := lit[1 : len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", errors.New("truncated escape")
		}
		i++
		switch s[i] {
		case '"', '\\', '/':
			b.WriteByte(s[i])
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, err := hex4(s[i+1:])
			if err != nil {
				return "", err
			}
			i += 4
			switch {
			case r >= 0xdc80 && r <= 0xdcff:
				b.WriteByte(byte(r - 0xdc00))
			case utf16.IsSurrogate(r) && r < 0xdc00 && strings.HasPrefix(s[i+1:], `\u`):
				r2, err := hex4(s[i+3:])
				if err != nil {
					return "", err
				}
				b.WriteRune(utf16.DecodeRune(r, r2))
				i += 6
			default:
				b.WriteRune(r)
			}
		default:
			return "", errors.New(`unknown escape \` + string(s[i]))
		}
	}
	return b.String(), nil
}

func hex4(s string) (rune, error) {
	if len(s) < 4 {
		return 0, errors.New(`truncated \u escape`)
	}
	v, err := strconv.ParseUint(s[:4], 16, 16)
	if err != nil {
		return 0, errors.New(`bad \u escape`)
	}
	return rune(v), nil
}

// String is a name that encoding/json writes with AppendJSON and reads
// with DecodeJSON, so that it survives JSON byte for byte.
type String string

func (s String) MarshalJSON() ([]byte, error) { return AppendJSON(nil, string(s)), nil }

func (s *String) UnmarshalJSON(b []byte) error {
	v, err := DecodeJSON(string(b))
	*s = String(v)
	return err
}
