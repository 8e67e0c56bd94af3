// promql-inspect: parses PromQL expressions with Prometheus's own parser and reports, for each,
// the parse error or the metric selectors (name and matcher labels) and grouping labels it uses.
// Input on stdin: {"name": "expr", ...}. Output on stdout: {"name": {...}, ...}.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

type selector struct {
	Metric string   `json:"metric"`
	Labels []string `json:"labels"`
}

type report struct {
	Error     string     `json:"error,omitempty"`
	Selectors []selector `json:"selectors"`
	Grouping  []string   `json:"grouping"`
}

func inspect(p parser.Parser, input string) report {
	r := report{Selectors: []selector{}, Grouping: []string{}}
	expr, err := p.ParseExpr(input)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			s := selector{Metric: n.Name, Labels: []string{}}
			for _, m := range n.LabelMatchers {
				if m.Name != labels.MetricName {
					s.Labels = append(s.Labels, m.Name)
				}
			}
			r.Selectors = append(r.Selectors, s)
		case *parser.AggregateExpr:
			r.Grouping = append(r.Grouping, n.Grouping...)
		case *parser.BinaryExpr:
			if n.VectorMatching != nil {
				r.Grouping = append(r.Grouping, n.VectorMatching.MatchingLabels...)
				r.Grouping = append(r.Grouping, n.VectorMatching.Include...)
			}
		}
		return nil
	})
	return r
}

func main() {
	var exprs map[string]string
	if err := json.NewDecoder(os.Stdin).Decode(&exprs); err != nil {
		fmt.Fprintln(os.Stderr, "promql-inspect: stdin is not a JSON object of name → expression:", err)
		os.Exit(2)
	}
	p := parser.NewParser(parser.Options{})
	out := map[string]report{}
	for name, expr := range exprs {
		out[name] = inspect(p, expr)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
