package plugin

import (
	"context"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	templatesourcev1 "catalyst.dev/sdk/proto/templatesource/v1"
)

var (
	_ TemplateSource                        = (*templateSourceClient)(nil)
	_ templatesourcev1.TemplateSourceServer = (*templateSourceServer)(nil)
)

func registerTemplateSource(s *grpc.Server, _ *goplugin.GRPCBroker, impl TemplateSource, log hclog.Logger) {
	templatesourcev1.RegisterTemplateSourceServer(s, &templateSourceServer{impl: impl, log: log})
}

type templateSourceServer struct {
	templatesourcev1.UnimplementedTemplateSourceServer
	impl TemplateSource
	log  hclog.Logger
}

func (s *templateSourceServer) List(ctx context.Context, _ *templatesourcev1.ListRequest) (_ *templatesourcev1.ListResponse, err error) {
	defer recoverPanic(s.log, "List", &err)
	list, err := s.impl.List(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &templatesourcev1.ListResponse{}
	for _, t := range list {
		resp.Templates = append(resp.Templates, &templatesourcev1.TemplateSummary{
			Id: t.ID, Name: t.Name, Description: t.Description, Version: t.Version,
		})
	}
	return resp, nil
}

func (s *templateSourceServer) Fetch(ctx context.Context, req *templatesourcev1.FetchRequest) (_ *templatesourcev1.FetchResponse, err error) {
	defer recoverPanic(s.log, "Fetch", &err)
	t, err := s.impl.Fetch(ctx, req.GetId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &templatesourcev1.FetchResponse{Template: templateToProto(t)}, nil
}

func (s *templateSourceServer) Parse(ctx context.Context, req *templatesourcev1.ParseRequest) (_ *templatesourcev1.ParseResponse, err error) {
	defer recoverPanic(s.log, "Parse", &err)
	t, err := s.impl.Parse(ctx, req.GetName(), req.GetData())
	if err != nil {
		return nil, toStatus(err)
	}
	return &templatesourcev1.ParseResponse{Template: templateToProto(t)}, nil
}

type templateSourceClient struct {
	*baseClient
	client templatesourcev1.TemplateSourceClient
}

func newTemplateSourceClient(conn grpc.ClientConnInterface) *templateSourceClient {
	return &templateSourceClient{baseClient: newBaseClient(conn), client: templatesourcev1.NewTemplateSourceClient(conn)}
}

func (c *templateSourceClient) List(ctx context.Context) ([]TemplateSummary, error) {
	resp, err := c.client.List(ctx, &templatesourcev1.ListRequest{})
	if err != nil {
		return nil, fromStatus(err)
	}
	out := make([]TemplateSummary, 0, len(resp.GetTemplates()))
	for _, t := range resp.GetTemplates() {
		out = append(out, TemplateSummary{ID: t.GetId(), Name: t.GetName(), Description: t.GetDescription(), Version: t.GetVersion()})
	}
	return out, nil
}

func (c *templateSourceClient) Fetch(ctx context.Context, id string) (Template, error) {
	resp, err := c.client.Fetch(ctx, &templatesourcev1.FetchRequest{Id: id})
	if err != nil {
		return Template{}, fromStatus(err)
	}
	return templateFromProto(resp.GetTemplate()), nil
}

func (c *templateSourceClient) Parse(ctx context.Context, name string, data []byte) (Template, error) {
	resp, err := c.client.Parse(ctx, &templatesourcev1.ParseRequest{Name: name, Data: data})
	if err != nil {
		return Template{}, fromStatus(err)
	}
	return templateFromProto(resp.GetTemplate()), nil
}

func templateToProto(t Template) *templatesourcev1.Template {
	p := &templatesourcev1.Template{
		Id: t.ID, Name: t.Name, Description: t.Description, Version: t.Version, Author: t.Author,
		Startup: t.Startup, Stop: t.Stop, DonePatterns: t.DonePatterns,
		Install:  &templatesourcev1.Install{Image: t.Install.Image, Entrypoint: t.Install.Entrypoint, Script: t.Install.Script},
		Denylist: t.Denylist, Features: t.Features, Warnings: t.Warnings,
	}
	for _, im := range t.Images {
		p.Images = append(p.Images, &templatesourcev1.Image{Label: im.Label, Ref: im.Ref})
	}
	for _, v := range t.Variables {
		p.Variables = append(p.Variables, &templatesourcev1.Variable{
			Name: v.Name, Description: v.Description, Env: v.Env, DefaultValue: v.DefaultValue,
			UserViewable: v.UserViewable, UserEditable: v.UserEditable, Rules: v.Rules,
		})
	}
	for _, f := range t.ConfigFiles {
		pf := &templatesourcev1.ConfigFile{Path: f.Path, Parser: f.Parser}
		for _, r := range f.Replace {
			pf.Replace = append(pf.Replace, &templatesourcev1.Replacement{Match: r.Match, Value: r.Value})
		}
		p.ConfigFiles = append(p.ConfigFiles, pf)
	}
	return p
}

func templateFromProto(p *templatesourcev1.Template) Template {
	t := Template{
		ID: p.GetId(), Name: p.GetName(), Description: p.GetDescription(), Version: p.GetVersion(), Author: p.GetAuthor(),
		Startup: p.GetStartup(), Stop: p.GetStop(), DonePatterns: p.GetDonePatterns(),
		Install:  Install{Image: p.GetInstall().GetImage(), Entrypoint: p.GetInstall().GetEntrypoint(), Script: p.GetInstall().GetScript()},
		Denylist: p.GetDenylist(), Features: p.GetFeatures(), Warnings: p.GetWarnings(),
	}
	for _, im := range p.GetImages() {
		t.Images = append(t.Images, Image{Label: im.GetLabel(), Ref: im.GetRef()})
	}
	for _, v := range p.GetVariables() {
		t.Variables = append(t.Variables, Variable{
			Name: v.GetName(), Description: v.GetDescription(), Env: v.GetEnv(), DefaultValue: v.GetDefaultValue(),
			UserViewable: v.GetUserViewable(), UserEditable: v.GetUserEditable(), Rules: v.GetRules(),
		})
	}
	for _, f := range p.GetConfigFiles() {
		cf := ConfigFile{Path: f.GetPath(), Parser: f.GetParser()}
		for _, r := range f.GetReplace() {
			cf.Replace = append(cf.Replace, Replacement{Match: r.GetMatch(), Value: r.GetValue()})
		}
		t.ConfigFiles = append(t.ConfigFiles, cf)
	}
	return t
}
