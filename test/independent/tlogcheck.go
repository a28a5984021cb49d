// tlogcheck checks this service's checkpoints, proofs and cosignatures with code that is not ours: Go's
// golang.org/x/mod/sumdb/note (signed notes) and sumdb/tlog (RFC 6962 proofs), plus crypto/ed25519 for the
// c2sp.org/tlog-cosignature v1 message, which x/mod does not cover. It reads one JSON object of checks on
// stdin and prints one line per check; it exits 1 when any fails.
//
// Build (Debian's golang-go and golang-golang-x-mod-dev):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o tlogcheck test/independent/tlogcheck.go
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type check struct {
	Kind     string   `json:"kind"`
	Vkey     string   `json:"vkey"`
	Note     string   `json:"note"`
	Size     int64    `json:"size"`
	Root     string   `json:"root"`
	Index    int64    `json:"index"`
	Leaf     string   `json:"leaf"`
	From     int64    `json:"from"`
	To       int64    `json:"to"`
	FromRoot string   `json:"fromRoot"`
	ToRoot   string   `json:"toRoot"`
	Proof    []string `json:"proof"`
}

func hashes(list []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		h, err := tlog.ParseHash(s)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

// openNote verifies the note with the vkey and returns its checkpoint lines (origin, size, root).
func openNote(c check) ([]string, error) {
	v, err := note.NewVerifier(c.Vkey)
	if err != nil {
		return nil, err
	}
	n, err := note.Open([]byte(c.Note), note.VerifierList(v))
	if err != nil {
		return nil, err
	}
	return strings.Split(n.Text, "\n"), nil
}

// cosigned checks an Ed25519 cosignature/v1 line of the vkey (type 0x04) over the note's text.
func cosigned(c check) error {
	parts := strings.SplitN(c.Vkey, "+", 3) // the base64 key may hold "+"
	if len(parts) != 3 {
		return fmt.Errorf("bad vkey")
	}
	material, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(material) != 33 || material[0] != 0x04 {
		return fmt.Errorf("not a cosignature/v1 vkey")
	}
	pub := ed25519.PublicKey(material[1:])
	sum := sha256.Sum256(append(append([]byte(parts[0]+"\n"), 0x04), pub...))
	at := strings.LastIndex(c.Note, "\n\n")
	if at < 0 {
		return fmt.Errorf("not a note")
	}
	text := c.Note[:at+1]
	for _, line := range strings.Split(strings.TrimSuffix(c.Note[at+2:], "\n"), "\n") {
		f := strings.Fields(strings.TrimPrefix(line, "— "))
		if len(f) != 2 || f[0] != parts[0] {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(f[1])
		if err != nil || len(raw) != 4+8+64 || binary.BigEndian.Uint32(raw) != binary.BigEndian.Uint32(sum[:4]) {
			continue
		}
		time := binary.BigEndian.Uint64(raw[4:])
		msg := fmt.Sprintf("cosignature/v1\ntime %d\n%s", time, text)
		if ed25519.Verify(pub, []byte(msg), raw[12:]) {
			return nil
		}
		return fmt.Errorf("cosignature does not verify")
	}
	return fmt.Errorf("no cosignature of %s", parts[0])
}

func run(c check) error {
	switch c.Kind {
	case "note":
		lines, err := openNote(c)
		if err != nil {
			return err
		}
		if len(lines) < 4 {
			return fmt.Errorf("not a checkpoint")
		}
		if c.Root != "" && lines[2] != c.Root {
			return fmt.Errorf("root %s, want %s", lines[2], c.Root)
		}
		return nil
	case "inclusion":
		p, err := hashes(c.Proof)
		if err != nil {
			return err
		}
		root, err := tlog.ParseHash(c.Root)
		if err != nil {
			return err
		}
		leaf, err := tlog.ParseHash(c.Leaf)
		if err != nil {
			return err
		}
		return tlog.CheckRecord(p, c.Size, root, c.Index, leaf)
	case "consistency":
		p, err := hashes(c.Proof)
		if err != nil {
			return err
		}
		from, err := tlog.ParseHash(c.FromRoot)
		if err != nil {
			return err
		}
		to, err := tlog.ParseHash(c.ToRoot)
		if err != nil {
			return err
		}
		return tlog.CheckTree(p, c.To, to, c.From, from)
	case "cosignature":
		return cosigned(c)
	}
	return fmt.Errorf("unknown check %q", c.Kind)
}

func main() {
	var in struct {
		Checks []check `json:"checks"`
	}
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Println("fail: input:", err)
		os.Exit(1)
	}
	failed := false
	for i, c := range in.Checks {
		if err := run(c); err != nil {
			failed = true
			fmt.Printf("%d %s fail: %v\n", i, c.Kind, err)
		} else {
			fmt.Printf("%d %s ok\n", i, c.Kind)
		}
	}
	if failed {
		os.Exit(1)
	}
}
