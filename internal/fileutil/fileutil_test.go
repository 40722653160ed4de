package fileutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteAtomicAndReadCapped(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "list.json")
	for _, content := range []string{"first", "second, longer"} {
		if err := WriteAtomic(p, []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := ReadCapped(p, 100)
		if err != nil || string(got) != content {
			t.Fatalf("read %q, %v; want %q", got, err, content)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if _, err := ReadCapped(p, 5); err == nil || !strings.Contains(err.Error(), "larger than 5 bytes") {
		t.Errorf("over the cap: %v", err)
	}
	if err := WriteAtomic(filepath.Join(dir, "missing", "x"), nil); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
	if _, err := ReadCapped(filepath.Join(dir, "absent"), 5); !os.IsNotExist(err) {
		t.Errorf("absent file: %v", err)
	}
}
