package plugin

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"

	basev1 "catalyst.dev/sdk/proto/base/v1"
)

// Base is what every plugin implements, whatever its kind.
type Base interface {
	// Info says who the plugin is. It must not depend on configuration:
	// the host calls it before Configure.
	Info(ctx context.Context) (Info, error)
	// ConfigSchema publishes the keys the plugin's config block accepts.
	// Like Info, it is called before Configure.
	ConfigSchema(ctx context.Context) (Schema, error)
	// Configure receives the config block, already checked against the
	// schema and with defaults applied. The host calls it after every
	// launch, before any call of the plugin's kind, and may call it again.
	Configure(ctx context.Context, cfg Config) error
}

// baseServer serves Base over gRPC. It fills in Info.APIVersions and checks
// configurations against the schema, so plugin authors do neither.
type baseServer struct {
	basev1.UnimplementedBaseServer
	impl Base
	log  hclog.Logger
}

func (s *baseServer) Info(ctx context.Context, _ *basev1.InfoRequest) (_ *basev1.InfoResponse, err error) {
	defer recoverPanic(s.log, "Info", &err)
	info, err := s.impl.Info(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &basev1.InfoResponse{
		Name:        info.Name,
		Kind:        string(info.Kind),
		Version:     info.Version,
		ApiVersions: APIVersions(info.Kind),
	}, nil
}

func (s *baseServer) ConfigSchema(ctx context.Context, _ *basev1.ConfigSchemaRequest) (_ *basev1.ConfigSchemaResponse, err error) {
	defer recoverPanic(s.log, "ConfigSchema", &err)
	schema, err := s.impl.ConfigSchema(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return schemaToProto(schema)
}

func (s *baseServer) Configure(ctx context.Context, req *basev1.ConfigureRequest) (_ *basev1.ConfigureResponse, err error) {
	defer recoverPanic(s.log, "Configure", &err)
	schema, err := s.impl.ConfigSchema(ctx)
	if err != nil {
		return nil, toStatus(fmt.Errorf("config schema: %w", err))
	}
	cfg, err := schema.Apply(req.GetConfigJson())
	if err != nil {
		return nil, toStatus(err)
	}
	if err := s.impl.Configure(ctx, cfg); err != nil {
		return nil, toStatus(err)
	}
	return &basev1.ConfigureResponse{}, nil
}

// baseClient is the host's view of Base.
type baseClient struct {
	client basev1.BaseClient
}

var (
	_ Base              = (*baseClient)(nil)
	_ basev1.BaseServer = (*baseServer)(nil)
)

func newBaseClient(conn grpc.ClientConnInterface) *baseClient {
	return &baseClient{client: basev1.NewBaseClient(conn)}
}

func (c *baseClient) Info(ctx context.Context) (Info, error) {
	resp, err := c.client.Info(ctx, &basev1.InfoRequest{})
	if err != nil {
		return Info{}, fromStatus(err)
	}
	return Info{
		Name:        resp.GetName(),
		Kind:        Kind(resp.GetKind()),
		Version:     resp.GetVersion(),
		APIVersions: resp.GetApiVersions(),
	}, nil
}

func (c *baseClient) ConfigSchema(ctx context.Context) (Schema, error) {
	resp, err := c.client.ConfigSchema(ctx, &basev1.ConfigSchemaRequest{})
	if err != nil {
		return Schema{}, fromStatus(err)
	}
	return schemaFromProto(resp)
}

func (c *baseClient) Configure(ctx context.Context, cfg Config) error {
	_, err := c.client.Configure(ctx, &basev1.ConfigureRequest{ConfigJson: cfg})
	return fromStatus(err)
}

var fieldTypes = map[FieldType]basev1.FieldType{
	TypeString:     basev1.FieldType_FIELD_TYPE_STRING,
	TypeNumber:     basev1.FieldType_FIELD_TYPE_NUMBER,
	TypeBool:       basev1.FieldType_FIELD_TYPE_BOOL,
	TypeListString: basev1.FieldType_FIELD_TYPE_LIST_STRING,
	TypeMapString:  basev1.FieldType_FIELD_TYPE_MAP_STRING,
}

func schemaToProto(s Schema) (*basev1.ConfigSchemaResponse, error) {
	if err := s.Validate(); err != nil {
		return nil, toStatus(fmt.Errorf("%w: %w", ErrInvalidArgument, err))
	}
	resp := &basev1.ConfigSchemaResponse{}
	for _, f := range s.Fields {
		def, err := f.defaultJSON()
		if err != nil {
			return nil, toStatus(err)
		}
		resp.Fields = append(resp.Fields, &basev1.ConfigField{
			Name:        f.Name,
			Type:        fieldTypes[f.Type],
			Required:    f.Required,
			Description: f.Description,
			DefaultJson: def,
			Sensitive:   f.Sensitive,
		})
	}
	return resp, nil
}

func schemaFromProto(resp *basev1.ConfigSchemaResponse) (Schema, error) {
	var s Schema
	for _, pf := range resp.GetFields() {
		f := Field{
			Name:        pf.GetName(),
			Required:    pf.GetRequired(),
			Description: pf.GetDescription(),
			Sensitive:   pf.GetSensitive(),
		}
		for t, pt := range fieldTypes {
			if pt == pf.GetType() {
				f.Type = t
			}
		}
		if f.Type == "" {
			return Schema{}, fmt.Errorf("config schema: field %q: unknown type %v", f.Name, pf.GetType())
		}
		if len(pf.GetDefaultJson()) > 0 {
			// Keep the default as it came: it re-encodes unchanged.
			f.Default = json.RawMessage(pf.GetDefaultJson())
		}
		s.Fields = append(s.Fields, f)
	}
	if err := s.Validate(); err != nil {
		return Schema{}, err
	}
	return s, nil
}
