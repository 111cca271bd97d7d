package plugin

import (
	"context"
	"fmt"
	"reflect"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	basev1 "catalyst.dev/sdk/proto/base/v1"
)

// grpcPlugin is the go-plugin glue for one service. On the plugin side
// register is set and serves the implementation; on the host side only
// client is used. go-plugin's in-process test connection uses both.
type grpcPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	register func(*goplugin.GRPCBroker, *grpc.Server) error
	client   func(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) any
}

var _ goplugin.GRPCPlugin = (*grpcPlugin)(nil)

func (p *grpcPlugin) GRPCServer(b *goplugin.GRPCBroker, s *grpc.Server) error {
	if p.register == nil {
		return fmt.Errorf("no implementation to serve")
	}
	return p.register(b, s)
}

func (p *grpcPlugin) GRPCClient(ctx context.Context, b *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return p.client(ctx, b, c), nil
}

// PluginSet is the go-plugin plugin map: "base" plus one entry per kind.
// With impl nil it is the host's map, able to dispense a client of every
// kind. With an implementation it also serves "base" and impl's kind, which
// is what Serve and in-process tests use. Dispensing "base" yields a Base;
// dispensing a kind yields that kind's interface (BackupStore, …).
func PluginSet(impl Base, log hclog.Logger) (goplugin.PluginSet, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	clientOnly := func(k string) *grpcPlugin {
		if k == basePluginName {
			return &grpcPlugin{client: func(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) any {
				return newBaseClient(c)
			}}
		}
		return &grpcPlugin{client: kindClient(Kind(k))}
	}
	if impl == nil {
		set := goplugin.PluginSet{basePluginName: clientOnly(basePluginName)}
		for _, k := range Kinds() {
			set[string(k)] = clientOnly(string(k))
		}
		return set, nil
	}

	// A served set holds only what the plugin implements: go-plugin
	// registers every entry of the map with the gRPC server.
	info, err := impl.Info(context.Background())
	if err != nil {
		return nil, fmt.Errorf("plugin info: %w", err)
	}
	if err := info.validate(); err != nil {
		return nil, err
	}
	register, err := kindServer(info.Kind, impl, log)
	if err != nil {
		return nil, err
	}
	base := clientOnly(basePluginName)
	base.register = func(_ *goplugin.GRPCBroker, s *grpc.Server) error {
		basev1.RegisterBaseServer(s, &baseServer{impl: impl, log: log})
		return nil
	}
	kind := clientOnly(string(info.Kind))
	kind.register = register
	return goplugin.PluginSet{basePluginName: base, string(info.Kind): kind}, nil
}

// kindClient builds the host-side client of a kind.
func kindClient(k Kind) func(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) any {
	return func(_ context.Context, b *goplugin.GRPCBroker, c *grpc.ClientConn) any {
		switch k {
		case KindBackupStore:
			return newBackupStoreClient(c)
		case KindAlertSink:
			return newAlertSinkClient(c)
		case KindScheduler:
			return newSchedulerClient(c, b)
		case KindTemplateSource:
			return newTemplateSourceClient(c)
		case KindPolicy:
			return newPolicyClient(c)
		}
		return nil
	}
}

// kindServer checks that impl implements kind and returns the function that
// registers its gRPC service.
func kindServer(kind Kind, impl Base, log hclog.Logger) (func(*goplugin.GRPCBroker, *grpc.Server) error, error) {
	switch kind {
	case KindBackupStore:
		return serves(kind, impl, log, registerBackupStore)
	case KindAlertSink:
		return serves(kind, impl, log, registerAlertSink)
	case KindScheduler:
		return serves(kind, impl, log, registerScheduler)
	case KindTemplateSource:
		return serves(kind, impl, log, registerTemplateSource)
	case KindPolicy:
		return serves(kind, impl, log, registerPolicy)
	}
	return nil, fmt.Errorf("unknown plugin kind %q", kind)
}

// serves checks that impl implements T, the interface of kind, and returns
// the function that registers it with register.
func serves[T any](kind Kind, impl Base, log hclog.Logger, register func(*grpc.Server, *goplugin.GRPCBroker, T, hclog.Logger)) (func(*goplugin.GRPCBroker, *grpc.Server) error, error) {
	s, ok := impl.(T)
	if !ok {
		return nil, fmt.Errorf("plugin says it is a %s but %T does not implement %v", kind, impl, reflect.TypeFor[T]())
	}
	return func(b *goplugin.GRPCBroker, g *grpc.Server) error { register(g, b, s, log); return nil }, nil
}
