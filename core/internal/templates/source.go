package templates

import (
	"catalyst.dev/core/internal/store"
	"catalyst.dev/sdk/plugin"
)

// FromSource is the template that source, a template_source plugin's name,
// offers as pt, ready for Normalize and Validate. Its Source, SourceRef
// (ref) and SourceVersion say where it came from: ref is the reference a
// later import of the same template finds it by (the one asked for, not
// the ID the source puts inside it), empty for a file the source converted.
// pt.Warnings are the caller's to show: they are not part of the template.
func FromSource(source, ref string, pt plugin.Template) *store.Template {
	t := &store.Template{
		Name: pt.Name, Description: pt.Description, Author: pt.Author, Startup: pt.Startup, StopCommand: pt.Stop,
		StartupDone: pt.DonePatterns, InstallImage: pt.Install.Image, InstallEntrypoint: pt.Install.Entrypoint,
		InstallScript: pt.Install.Script, Denylist: pt.Denylist, Features: pt.Features,
		Source: source, SourceRef: ref, SourceVersion: pt.Version,
	}
	for _, im := range pt.Images {
		t.Images = append(t.Images, store.TemplateImage{Label: im.Label, Image: im.Ref})
	}
	for _, v := range pt.Variables {
		t.Variables = append(t.Variables, store.TemplateVariable{Name: v.Name, EnvName: v.Env, Description: v.Description,
			Default: v.DefaultValue, UserViewable: v.UserViewable, UserEditable: v.UserEditable, Rules: v.Rules})
	}
	for _, cf := range pt.ConfigFiles {
		f := store.TemplateConfigFile{Path: cf.Path, Parser: cf.Parser, Replace: []store.TemplateReplace{}}
		for _, r := range cf.Replace {
			f.Replace = append(f.Replace, store.TemplateReplace{Match: r.Match, Value: r.Value})
		}
		t.ConfigFiles = append(t.ConfigFiles, f)
	}
	return t
}

// Columns are the template columns an import or an update writes: every
// one but the ID and the creation time.
var Columns = []string{"name", "description", "author", "images", "startup", "stop_command", "startup_done",
	"install_image", "install_entrypoint", "install_script", "variables", "config_files", "denylist", "features",
	"source", "source_ref", "source_version"}
