package api

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

type reflectSample struct {
	Name    string            `json:"Name"`
	Note    *string           `json:"Note" nullable:"true"`
	Kind    *string           `json:"Kind" enum:"a,b"`
	ID      string            `json:"Id" pattern:"^X-[0-9]$"`
	Tags    map[string]string `json:"Tags"`
	At      time.Time         `json:"At"`
	Secret  *string           `json:"Secret" openapi:"-"`
	OnlyA   *int              `json:"OnlyA" only:"a"`
	OnlyB   *int              `json:"OnlyB" only:"b"`
	skipped int               //lint:ignore U1000 the reflector must skip unexported fields
}

type reflectSampleInput reflectSample

func (reflectSampleInput) variant() string          { return "a" }
func (reflectSampleInput) requiredFields() []string { return []string{"Name"} }

// TestReflectorSchemas pins how Go types read as JSON Schema.
func TestReflectorSchemas(t *testing.T) {
	tests := []struct {
		name  string
		typ   reflect.Type
		input bool
		want  string // the schema, or the component for a named struct
	}{
		{"string", reflect.TypeFor[string](), false, `{"type":"string"}`},
		{"integer", reflect.TypeFor[int64](), false, `{"type":"integer"}`},
		{"number", reflect.TypeFor[float64](), false, `{"type":"number"}`},
		{"time", reflect.TypeFor[time.Time](), false, `{"format":"date-time","type":"string"}`},
		{"pointer in a response is nullable", reflect.TypeFor[*string](), false, `{"type":["string","null"]}`},
		{"pointer in a request is optional, not null", reflect.TypeFor[*string](), true, `{"type":"string"}`},
		{"slice", reflect.TypeFor[[]bool](), false, `{"items":{"type":"boolean"},"type":"array"}`},
		{"map", reflect.TypeFor[map[string]int](), false, `{"additionalProperties":{"type":"integer"},"type":"object"}`},
		{"list is its array", reflect.TypeFor[list[[]string]](), false, `{"items":{"type":"string"},"type":"array"}`},
		{"response struct: every member required, no variant's members", reflect.TypeFor[reflectSample](), false,
			`{"additionalProperties":false,"properties":{"At":{"format":"date-time","type":"string"},"Id":{"pattern":"^X-[0-9]$","type":"string"},` +
				`"Kind":{"enum":["a","b",null],"type":["string","null"]},"Name":{"type":"string"},"Note":{"type":["string","null"]},` +
				`"Tags":{"additionalProperties":{"type":"string"},"type":"object"}},` +
				`"required":["Name","Note","Kind","Id","Tags","At"],"type":"object"}`},
		{"request struct: its variant, its required members, null only where tagged", reflect.TypeFor[reflectSampleInput](), true,
			`{"additionalProperties":false,"properties":{"At":{"format":"date-time","type":"string"},"Id":{"pattern":"^X-[0-9]$","type":"string"},` +
				`"Kind":{"enum":["a","b"],"type":"string"},"Name":{"type":"string"},"Note":{"type":["string","null"]},` +
				`"OnlyA":{"type":"integer"},"Tags":{"additionalProperties":{"type":"string"},"type":"object"}},` +
				`"required":["Name"],"type":"object"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newReflector()
			s := g.schema(tt.typ, tt.input)
			if g.err != nil {
				t.Fatal(g.err)
			}
			if r, ok := s["$ref"].(string); ok {
				s = g.components[r[len("#/components/schemas/"):]].(obj)
			}
			b, _ := json.Marshal(s)
			if got := string(b); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestComponentNames: a type's component is its Go name without JSON,
// capitalised; request types end in Input; two types cannot share one.
func TestComponentNames(t *testing.T) {
	if got := componentName(reflect.TypeFor[accountJSON](), false); got != "Account" {
		t.Errorf("accountJSON → %s", got)
	}
	if got := componentName(reflect.TypeFor[scalingPolicyJSON](), true); got != "ScalingPolicyInput" {
		t.Errorf("scalingPolicyJSON in a request → %s", got)
	}
	g := newReflector()
	g.schema(reflect.TypeFor[accountInput](), true)
	g.schema(reflect.TypeFor[struct{ A accountJSON }](), false)
	if g.err != nil {
		t.Fatal(g.err)
	}
	type accountInputJSON struct{}
	g.schema(reflect.TypeFor[accountInputJSON](), true)
	if g.err == nil {
		t.Error("two types became component AccountInput")
	}
}
