package main

import (
	"os"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestRouteDrift fails when the route table (shared/routes, which the
// router binds: shared/api's TestEveryRouteHasAHandler fails on a route
// without a handler), the synthesized CDK stack and template.yaml disagree
// on any route.
func TestRouteDrift(t *testing.T) {
	synth(t)
	want := tableRouteKeys()

	var cdk []string
	for _, p := range resources(t, "AWS::ApiGatewayV2::Route") {
		cdk = append(cdk, p["RouteKey"].(string))
	}
	sort.Strings(cdk)
	if a, b := diff(want, cdk); len(a)+len(b) > 0 {
		t.Errorf("CDK stack: missing %v, extra %v", a, b)
	}

	sam, err := samRouteKeys("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if a, b := diff(want, sam); len(a)+len(b) > 0 {
		t.Errorf("template.yaml: missing %v, extra %v", a, b)
	}
}

// samRouteKeys reads the HttpApi events of every function in a SAM
// template. CloudFormation short tags (!Ref, !GetAtt, !Sub) are read as
// yaml nodes, not decoded.
func samRouteKeys(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	get := func(n *yaml.Node, key string) *yaml.Node {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
		return nil
	}
	var keys []string
	res := get(doc.Content[0], "Resources")
	for i := 0; res != nil && i+1 < len(res.Content); i += 2 {
		r := res.Content[i+1]
		if t := get(r, "Type"); t == nil || t.Value != "AWS::Serverless::Function" {
			continue
		}
		events := get(get(r, "Properties"), "Events")
		for j := 0; events != nil && j+1 < len(events.Content); j += 2 {
			ev := events.Content[j+1]
			if t := get(ev, "Type"); t == nil || t.Value != "HttpApi" {
				continue
			}
			p := get(ev, "Properties")
			path, method := get(p, "Path"), get(p, "Method")
			if path == nil || method == nil {
				continue
			}
			if path.Value == "$default" {
				keys = append(keys, "$default")
				continue
			}
			keys = append(keys, strings.ToUpper(method.Value)+" "+path.Value)
		}
	}
	sort.Strings(keys)
	return keys, nil
}
