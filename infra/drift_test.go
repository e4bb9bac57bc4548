package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/batchplane/batchplane/infra/internal/spec"
)

// samTemplate is the committed SAM view of the stack, written by
// cmd/samgen. The test reads the file itself, so a hand edit that drops or
// adds a route fails here even though the generator is right.
const samTemplate = "../template.yaml"

// TestRouteDrift compares the route keys of the three places that name
// them: the route table (shared/routes, expanded with every alias, plus
// $default), the synthesized CDK stack and template.yaml. It lists every key
// missing from or extra in each, and every key defined twice.
//
// The fourth place is the router: shared/api's route test fails when an
// entry of routes.All has no handler, so table, router, CDK and SAM agree.
func TestRouteDrift(t *testing.T) {
	table := append(spec.RouteKeys(), spec.DefaultRouteKey)

	s := testStack(t)
	var cdk []string
	for _, r := range s.ofType("AWS::ApiGatewayV2::Route") {
		cdk = append(cdk, r.Properties["RouteKey"].(string))
	}

	sam, problems, err := samRouteKeys(samTemplate)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", samTemplate, p)
	}

	sources := []struct {
		name string
		keys []string
	}{
		{"shared/routes", table},
		{"the CDK stack", cdk},
		{samTemplate, sam},
	}
	for _, src := range sources {
		for _, k := range duplicates(src.keys) {
			t.Errorf("%s: route %q defined more than once", src.name, k)
		}
	}
	for i, a := range sources {
		for _, b := range sources[i+1:] {
			onlyA, onlyB := diff(a.keys, b.keys)
			for _, k := range onlyA {
				t.Errorf("route %q is in %s but missing from %s", k, a.name, b.name)
			}
			for _, k := range onlyB {
				t.Errorf("route %q is in %s but missing from %s", k, b.name, a.name)
			}
		}
	}
}

// samRouteKeys returns the route key of every HttpApi event of every
// AWS::Serverless::Function in a SAM template ("$default" for the default
// route), and problems SAM would trip on: duplicate keys in a mapping, an
// event without Path or Method. The template is read as yaml.Node, so
// CloudFormation's short-form tags (!Ref, !GetAtt, !Sub) need no decoder.
func samRouteKeys(path string) (keys, problems []string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil, fmt.Errorf("%s: empty", path)
	}
	var walk func(n *yaml.Node, at string)
	walk = func(n *yaml.Node, at string) { // SAM's YAML parser keeps one of two equal keys: flag them all.
		if n.Kind == yaml.MappingNode {
			seen := map[string]bool{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				if seen[k] {
					problems = append(problems, fmt.Sprintf("line %d: %s.%s defined twice", n.Content[i].Line, at, k))
				}
				seen[k] = true
				walk(n.Content[i+1], at+"."+k)
			}
			return
		}
		for _, c := range n.Content {
			walk(c, at)
		}
	}
	walk(doc.Content[0], "")

	eachPair(mapping(doc.Content[0])["Resources"], func(id string, res *yaml.Node) {
		r := mapping(res)
		if scalar(r["Type"]) != "AWS::Serverless::Function" {
			return
		}
		eachPair(mapping(r["Properties"])["Events"], func(name string, ev *yaml.Node) {
			e := mapping(ev)
			if scalar(e["Type"]) != "HttpApi" {
				return
			}
			props := mapping(e["Properties"])
			p, m := scalar(props["Path"]), scalar(props["Method"])
			switch {
			case p == spec.DefaultRouteKey:
				keys = append(keys, spec.DefaultRouteKey)
			case p == "" || m == "":
				problems = append(problems, fmt.Sprintf("%s event %s: HttpApi event without Path and Method", id, name))
			default:
				keys = append(keys, spec.RouteKey(strings.ToUpper(m), p))
			}
		})
	})
	return keys, problems, nil
}

// mapping indexes a YAML mapping node by key (nil for any other node).
func mapping(n *yaml.Node) map[string]*yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	m := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		m[n.Content[i].Value] = n.Content[i+1]
	}
	return m
}

// eachPair calls fn for each key and value of a mapping node, in file
// order, duplicates included.
func eachPair(n *yaml.Node, fn func(key string, value *yaml.Node)) {
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		fn(n.Content[i].Value, n.Content[i+1])
	}
}

// scalar is a scalar node's value, or "".
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}
