// utf8_check.go: read every row of every table of the extension through
// Go's database/sql and mattn/go-sqlite3 (Debian's
// golang-github-mattn-go-sqlite3-dev, linked with the system libsqlite3),
// and check that every TEXT value is valid UTF-8 (tests/test_utf8.py
// builds and runs it).
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o build/utf8_check tests/clients/utf8_check.go
//	build/utf8_check EXT PID...
//	UTF8_CHECK_CONTROL=1 ...   also reads CAST(x'c0af' AS TEXT): one failure
//
// Go's strings hold any bytes, so a TEXT value that is not UTF-8 arrives
// as it is: utf8.ValidString tells. For every TEXT value of SELECT * and
// the hidden columns of every table, and of the functions that return
// text. Prints one JSON object: counts per table, the failures, and the
// values of the rows of each PID in hex (encoding/json would silently
// turn invalid UTF-8 into U+FFFD).
package main

import (
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/mattn/go-sqlite3"
)

type table struct {
	Rows  int `json:"rows"`
	Texts int `json:"texts"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: utf8_check EXT [PID...]")
		os.Exit(2)
	}
	pids := map[int64]bool{}
	for _, a := range os.Args[2:] {
		p, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "utf8_check: not a pid:", a)
			os.Exit(2)
		}
		pids[p] = true
	}
	sql.Register("sqlite3_ps", &sqlite3.SQLiteDriver{Extensions: []string{os.Args[1]}})
	db, err := sql.Open("sqlite3_ps", ":memory:")
	if err != nil {
		fmt.Fprintln(os.Stderr, "utf8_check:", err)
		os.Exit(1)
	}
	db.SetMaxOpenConns(1)
	out := struct {
		Tables   map[string]*table            `json:"tables"`
		Failures []string                     `json:"failures"`
		Report   map[string]map[string]string `json:"report"`
	}{map[string]*table{}, []string{}, map[string]map[string]string{}}
	fail := func(f string, a ...interface{}) { out.Failures = append(out.Failures, fmt.Sprintf(f, a...)) }

	scans := [][2]string{{"ps", "ps"}, {"ps_threads", "ps_threads"}, {"ps_fds", "ps_fds"},
		{"ps_sockets", "ps_sockets"}, {"ps_namespaces", "ps_namespaces"},
		{"ps_descriptors", "ps_descriptors('ps')"}, {"ps_descriptors", "ps_descriptors('ps_threads')"}}
	for _, sc := range scans {
		name, from := sc[0], sc[1]
		var cols []string
		rs, err := db.Query("SELECT name FROM pragma_table_xinfo('" + name + "')")
		if err != nil {
			fail("%s: columns: %v", name, err)
			continue
		}
		for rs.Next() {
			var c string
			if err := rs.Scan(&c); err != nil {
				fail("%s: columns: %v", name, err)
			}
			cols = append(cols, c)
		}
		rs.Close()
		sel := ""
		for i, c := range cols {
			if i > 0 {
				sel += ", "
			}
			sel += `"` + c + `"`
		}
		rows, err := db.Query("SELECT " + sel + " FROM " + from)
		if err != nil {
			fail("%s: %v", from, err)
			continue
		}
		t := &table{}
		out.Tables[from] = t
		vals := make([]interface{}, len(cols))
		ptrs := make([]interface{}, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				fail("%s: scan: %v", from, err)
				break
			}
			t.Rows++
			var pid int64 = -1
			var tid int64 = -1
			var fd int64 = -1
			for i, c := range cols {
				if v, ok := vals[i].(int64); ok {
					switch c {
					case "pid":
						pid = v
					case "tid":
						tid = v
					case "fd":
						fd = v
					}
				}
			}
			mine := pids[pid] && name != "ps_descriptors"
			for i, c := range cols {
				var b []byte
				switch v := vals[i].(type) {
				case string:
					t.Texts++
					if !utf8.ValidString(v) {
						fail("%s.%s of pid %d: invalid UTF-8: %x", from, c, pid, v)
					}
					b = []byte(v)
				case []byte:
					b = v
				default:
					continue
				}
				if mine {
					key := name + "." + c
					if name == "ps_threads" {
						key = fmt.Sprintf("%s.%d.%s", name, tid, c)
					} else if name == "ps_fds" || name == "ps_sockets" {
						key = fmt.Sprintf("%s.%d.%s", name, fd, c)
					}
					p := strconv.FormatInt(pid, 10)
					if out.Report[p] == nil {
						out.Report[p] = map[string]string{}
					}
					out.Report[p][key] = hex.EncodeToString(b)
				}
			}
		}
		if err := rows.Err(); err != nil {
			fail("%s: %v", from, err)
		}
		rows.Close()
	}
	// the functions that return text; with UTF8_CHECK_CONTROL=1 a TEXT that
	// is not UTF-8 too, which must fail (the check can fail)
	fns := []string{"SELECT ps_version()", "SELECT ps_etime(93784)", "SELECT ps_cputime(4)",
		"SELECT ps_printable(CAST(x'ff0a61e282' AS TEXT))"}
	if os.Getenv("UTF8_CHECK_CONTROL") == "1" {
		fns = append(fns, "SELECT CAST(x'c0af' AS TEXT)")
	}
	for _, q := range fns {
		var s string
		if err := db.QueryRow(q).Scan(&s); err != nil {
			fail("%s: %v", q, err)
		} else if !utf8.ValidString(s) {
			fail("%s: invalid UTF-8: %x", q, s)
		}
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "utf8_check:", err)
		os.Exit(1)
	}
}
