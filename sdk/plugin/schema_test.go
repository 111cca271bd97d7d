package plugin

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestSchemaApply(t *testing.T) {
	schema := Schema{Fields: []Field{
		{Name: "bucket", Type: TypeString, Required: true},
		{Name: "port", Type: TypeNumber, Default: 9000},
		{Name: "tls", Type: TypeBool},
		{Name: "regions", Type: TypeListString},
		{Name: "tags", Type: TypeMapString},
	}}
	tests := []struct {
		name    string
		in      string
		want    map[string]any
		wantErr []string
	}{
		{name: "defaults filled", in: `{"bucket":"b"}`, want: map[string]any{"bucket": "b", "port": float64(9000)}},
		{name: "all types", in: `{"bucket":"b","port":1,"tls":true,"regions":["eu"],"tags":{"a":"b"}}`,
			want: map[string]any{"bucket": "b", "port": float64(1), "tls": true, "regions": []any{"eu"}, "tags": map[string]any{"a": "b"}}},
		{name: "null is absent", in: `{"bucket":"b","port":null}`, want: map[string]any{"bucket": "b", "port": float64(9000)}},
		{name: "missing required", in: `{}`, wantErr: []string{`missing required key "bucket"`}},
		{name: "every problem reported", in: `{"bukket":"b","tls":"yes","regions":[1]}`,
			wantErr: []string{`unknown key "bukket"`, `key "tls": want bool`, `key "regions": want list(string)`, `missing required key "bucket"`}},
		{name: "not an object", in: `[1]`, wantErr: []string{"not a JSON object"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := schema.Apply(Config(tt.in))
			if tt.wantErr != nil {
				if !errors.Is(err, ErrInvalidArgument) {
					t.Fatalf("want ErrInvalidArgument, got %v", err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(tt.want)
			if string(gb) != string(wb) {
				t.Fatalf("got %s, want %s", gb, wb)
			}
		})
	}
}

func TestSchemaValidate(t *testing.T) {
	tests := []struct {
		name   string
		fields []Field
		want   string
	}{
		{"bad name", []Field{{Name: "9lives", Type: TypeString}}, "not an HCL identifier"},
		{"duplicate", []Field{{Name: "a", Type: TypeString}, {Name: "a", Type: TypeBool}}, "declared twice"},
		{"unknown type", []Field{{Name: "a", Type: "list(number)"}}, "unknown type"},
		{"default of the wrong type", []Field{{Name: "a", Type: TypeBool, Default: "yes"}}, "want bool"},
		{"required with default", []Field{{Name: "a", Type: TypeString, Required: true, Default: "x"}}, "required and has a default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Schema{Fields: tt.fields}.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want error containing %q, got %v", tt.want, err)
			}
		})
	}
}
