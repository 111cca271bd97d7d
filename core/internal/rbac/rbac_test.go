package rbac

import "testing"

func TestCanOnServer(t *testing.T) {
	owner := ServerAccess{Owner: true}
	sub := ServerAccess{Granted: []string{"file.read", "server.console"}}
	stranger := ServerAccess{}
	cases := []struct {
		name    string
		p       Principal
		a       ServerAccess
		perm    Permission
		want    bool
		visible bool
	}{
		{"admin anywhere", Principal{Admin: true}, stranger, FileWrite, true, true},
		{"owner", Principal{}, owner, BackupRestore, true, true},
		{"subuser granted", Principal{}, sub, FileRead, true, true},
		{"subuser not granted", Principal{}, sub, FileWrite, false, true},
		{"subuser with empty grant still sees", Principal{}, ServerAccess{Granted: []string{}}, FileRead, false, true},
		{"stranger", Principal{}, stranger, ServerRead, false, false},
		{"scoped key inside scope", Principal{Scopes: []string{"file.*"}}, owner, FileDelete, true, true},
		{"scoped key outside scope", Principal{Scopes: []string{"file.*"}}, owner, ServerStart, false, true},
		{"scoped admin key", Principal{Admin: true, Scopes: []string{"server.read"}}, stranger, FileRead, false, true},
		{"empty scope list allows nothing", Principal{Scopes: []string{}}, owner, ServerRead, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.CanOnServer(tc.perm, tc.a); got != tc.want {
				t.Fatalf("CanOnServer(%s) = %v, want %v", tc.perm, got, tc.want)
			}
			if got := tc.p.SeesServer(tc.a); got != tc.visible {
				t.Fatalf("SeesServer = %v, want %v", got, tc.visible)
			}
		})
	}
}

func TestGlobalPermissionsAreAdminOnly(t *testing.T) {
	for _, perm := range GlobalPermissions {
		if (&Principal{}).Can(perm) {
			t.Errorf("a non-admin holds %s", perm)
		}
		if !(&Principal{Admin: true}).Can(perm) {
			t.Errorf("an admin lacks %s", perm)
		}
		if (&Principal{Admin: true, Scopes: []string{"file.*"}}).Can(perm) {
			t.Errorf("an admin key scoped to file.* holds %s", perm)
		}
	}
	if !(&Principal{Admin: true, Scopes: []string{"admin.*"}}).Can(AdminAuditRead) {
		t.Error("admin.* scope does not cover admin.audit.read")
	}
}

func TestValidScope(t *testing.T) {
	for s, want := range map[string]bool{
		"*": true, "file.*": true, "admin.*": true, "admin.users.*": true, "file.read-content": true,
		"file": false, "nope.*": false, "server.explode": false, "": false,
	} {
		if got := ValidScope(s); got != want {
			t.Errorf("ValidScope(%q) = %v, want %v", s, got, want)
		}
	}
}
