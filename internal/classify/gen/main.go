// Command gen writes corpus.rules, the rules fsdiff generates from what
// public NixOS configurations persist (classify.CorpusRules). Run it with
// go generate ./internal/classify; -corpus reads another copy of the corpus
// (e.g. ../shared/knowledge/corpus.jsonl).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/fsdiff-nix/fsdiff/internal/classify"
)

func main() {
	corpus := flag.String("corpus", "testdata/corpus.jsonl", "the corpus, one JSON object per repository")
	out := flag.String("o", "corpus.rules", "the rule file to write")
	flag.Parse()
	if err := run(*corpus, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(corpus, out string) error {
	f, err := os.Open(corpus)
	if err != nil {
		return err
	}
	defer f.Close()
	repos, err := classify.ReadCorpus(f)
	if err != nil {
		return fmt.Errorf("reading %q: %w", corpus, err)
	}
	return os.WriteFile(out, classify.CorpusRules(repos, classify.Handwritten()), 0o644)
}
