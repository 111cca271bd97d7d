package hclconfig_test

import (
	"strings"
	"testing"

	"catalyst.dev/sdk/hclconfig"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
)

type doc struct {
	Name   string `hcl:"name"`
	Secret string `hcl:"secret,optional"`
}

func decode(t *testing.T, src string) (doc, error) {
	t.Helper()
	p := hclparse.NewParser()
	f, diags := p.ParseHCL([]byte(src), "x.hcl")
	var d doc
	if !diags.HasErrors() {
		diags = gohcl.DecodeBody(f.Body, hclconfig.EvalContext(), &d)
	}
	if diags.HasErrors() {
		return d, &hclconfig.DiagnosticsError{Diags: diags, Files: p.Files()}
	}
	return d, nil
}

func TestEnvFunction(t *testing.T) {
	t.Setenv("HCLCONFIG_TEST_SECRET", "s3cret")
	tests := []struct {
		src, want, err string
	}{
		{`name = "a"` + "\n" + `secret = env("HCLCONFIG_TEST_SECRET")`, "s3cret", ""},
		{`name = "a"` + "\n" + `secret = env("HCLCONFIG_TEST_UNSET", "fallback")`, "fallback", ""},
		{`name = "a"` + "\n" + `secret = env("HCLCONFIG_TEST_UNSET")`, "", "environment variable HCLCONFIG_TEST_UNSET is not set"},
		{`name = "a"` + "\n" + `secret = env("HCLCONFIG_TEST_UNSET", "a", "b")`, "", "at most one default"},
	}
	for _, tt := range tests {
		d, err := decode(t, tt.src)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err = %v, want %q", tt.src, err, tt.err)
			}
			continue
		}
		if err != nil || d.Secret != tt.want {
			t.Errorf("%s: secret = %q, %v; want %q", tt.src, d.Secret, err, tt.want)
		}
	}
}

func TestErrorNamesLineAndShowsCaret(t *testing.T) {
	_, err := decode(t, "name = \"a\"\n\tcolour = \"red\"\n")
	want := "x.hcl:2:2: Unsupported argument: An argument named \"colour\" is not expected here.\n     colour = \"red\"\n     ^"
	if err == nil || err.Error() != want {
		t.Fatalf("err =\n%v\nwant\n%s", err, want)
	}
	// Without the files, the excerpt is left out.
	de := *err.(*hclconfig.DiagnosticsError)
	de.Files = nil
	if got := de.Error(); strings.Contains(got, "\n") || !strings.HasPrefix(got, "x.hcl:2:2: Unsupported argument") {
		t.Fatalf("without files: %q", got)
	}
}
