package prices

import "testing"

func TestCatalog(t *testing.T) {
	for _, region := range []string{"us-east-1", "us-east-2", "us-west-2", "eu-west-1"} {
		for _, typ := range Types() {
			p, ok := Lookup(region, typ)
			if !ok || p.OnDemand <= 0 || p.Spot <= 0 || p.Spot >= p.OnDemand {
				t.Errorf("%s %s: %+v %v", region, typ, p, ok)
			}
		}
	}
	if _, ok := Lookup("mars-1", "t3.micro"); ok {
		t.Error("unknown region priced")
	}
	tests := []struct{ in, smaller, larger string }{
		{"t3.micro", "t3.nano", "t3.small"},
		{"t3.nano", "", "t3.micro"},
		{"m5.large", "", "m5.xlarge"},
		{"t1.micro", "", ""},
	}
	for _, tt := range tests {
		if s, _ := Smaller(tt.in); s != tt.smaller {
			t.Errorf("Smaller(%s) = %q, want %q", tt.in, s, tt.smaller)
		}
		if l, _ := Larger(tt.in); l != tt.larger {
			t.Errorf("Larger(%s) = %q, want %q", tt.in, l, tt.larger)
		}
	}
}
