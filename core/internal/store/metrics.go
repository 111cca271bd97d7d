package store

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/uptrace/bun"
)

// ServerMetric is one persisted sample of a server's resource use. At is
// Unix seconds, so that both databases downsample with the same integer
// arithmetic.
type ServerMetric struct {
	bun.BaseModel `bun:"table:server_metrics"`

	ServerID         string  `bun:"server_id,pk"`
	At               int64   `bun:"at,pk"`
	CPUPercent       float64 `bun:"cpu_percent,notnull"`
	MemoryBytes      int64   `bun:"memory_bytes,notnull"`
	MemoryLimitBytes int64   `bun:"memory_limit_bytes,notnull"`
	Pids             int64   `bun:"pids,notnull"`
	NetRxBytes       int64   `bun:"net_rx_bytes,notnull"`
	NetTxBytes       int64   `bun:"net_tx_bytes,notnull"`
	DiskBytes        int64   `bun:"disk_bytes,notnull"`
}

// NodeMetric is one persisted sample of a node's own resource use.
type NodeMetric struct {
	bun.BaseModel `bun:"table:node_metrics"`

	NodeID           string  `bun:"node_id,pk"`
	At               int64   `bun:"at,pk"`
	CPUPercent       float64 `bun:"cpu_percent,notnull"`
	MemoryUsedBytes  int64   `bun:"memory_used_bytes,notnull"`
	MemoryTotalBytes int64   `bun:"memory_total_bytes,notnull"`
	DiskUsedBytes    int64   `bun:"disk_used_bytes,notnull"`
	DiskTotalBytes   int64   `bun:"disk_total_bytes,notnull"`
	Load1            float64 `bun:"load1,notnull"`
	Load5            float64 `bun:"load5,notnull"`
	Load15           float64 `bun:"load15,notnull"`
	Containers       int     `bun:"containers,notnull"`
}

// ServerMetricPoint is a server's resource use over one step of a
// downsampled history: CPU and memory averaged, the rest the largest value
// seen (network counters are cumulative, so the largest is the latest).
type ServerMetricPoint struct {
	At               time.Time `json:"at"` // start of the step
	Samples          int       `json:"samples"`
	CPUPercent       float64   `json:"cpu_percent"`
	MemoryBytes      int64     `json:"memory_bytes"`
	MemoryMaxBytes   int64     `json:"memory_max_bytes"`
	MemoryLimitBytes int64     `json:"memory_limit_bytes"`
	Pids             int64     `json:"pids"`
	NetRxBytes       int64     `json:"net_rx_bytes"`
	NetTxBytes       int64     `json:"net_tx_bytes"`
	DiskBytes        int64     `json:"disk_bytes"`
}

// NodeMetricPoint is a node's resource use over one step: CPU, memory and
// load averaged, disk and containers the largest value seen.
type NodeMetricPoint struct {
	At                 time.Time `json:"at"` // start of the step
	Samples            int       `json:"samples"`
	CPUPercent         float64   `json:"cpu_percent"`
	MemoryUsedBytes    int64     `json:"memory_used_bytes"`
	MemoryUsedMaxBytes int64     `json:"memory_used_max_bytes"`
	MemoryTotalBytes   int64     `json:"memory_total_bytes"`
	DiskUsedBytes      int64     `json:"disk_used_bytes"`
	DiskTotalBytes     int64     `json:"disk_total_bytes"`
	Load1              float64   `json:"load1"`
	Load5              float64   `json:"load5"`
	Load15             float64   `json:"load15"`
	Containers         int       `json:"containers"`
}

// metricsInsertChunk bounds the rows of one INSERT statement, so a flush of
// thousands of servers does not build one enormous statement.
const metricsInsertChunk = 1000

// metricsDeleteChunk bounds the rows one retention DELETE removes, so a
// large backlog is removed in short statements that never hold locks long.
const metricsDeleteChunk = 5000

// The column lists of the hand-written inserts below, in model order.
const (
	serverMetricColumns = "server_id, at, cpu_percent, memory_bytes, memory_limit_bytes, pids, net_rx_bytes, net_tx_bytes, disk_bytes"
	nodeMetricColumns   = "node_id, at, cpu_percent, memory_used_bytes, memory_total_bytes, disk_used_bytes, disk_total_bytes, load1, load5, load15, containers"
)

// InsertServerMetrics writes samples in multi-row statements. A sample
// whose (server, at) is already stored is skipped, and so is one whose
// server has been deleted meanwhile: a flush racing a deletion must not
// lose the other servers' samples to a foreign-key error.
func (s *Store) InsertServerMetrics(ctx context.Context, ms []ServerMetric) error {
	for start := 0; start < len(ms); start += metricsInsertChunk {
		chunk := ms[start:min(start+metricsInsertChunk, len(ms))]
		_, err := s.db.NewRaw("WITH batch ("+serverMetricColumns+") AS (?) "+
			"INSERT INTO server_metrics ("+serverMetricColumns+") "+
			"SELECT "+serverMetricColumns+" FROM batch WHERE server_id IN (SELECT id FROM servers) "+
			"ON CONFLICT DO NOTHING", s.db.NewValues(&chunk)).Exec(ctx)
		if err != nil {
			return fmt.Errorf("insert server metrics: %w", mapError(err))
		}
	}
	return nil
}

// InsertNodeMetrics writes samples like InsertServerMetrics.
func (s *Store) InsertNodeMetrics(ctx context.Context, ms []NodeMetric) error {
	for start := 0; start < len(ms); start += metricsInsertChunk {
		chunk := ms[start:min(start+metricsInsertChunk, len(ms))]
		_, err := s.db.NewRaw("WITH batch ("+nodeMetricColumns+") AS (?) "+
			"INSERT INTO node_metrics ("+nodeMetricColumns+") "+
			"SELECT "+nodeMetricColumns+" FROM batch WHERE node_id IN (SELECT id FROM nodes) "+
			"ON CONFLICT DO NOTHING", s.db.NewValues(&chunk)).Exec(ctx)
		if err != nil {
			return fmt.Errorf("insert node metrics: %w", mapError(err))
		}
	}
	return nil
}

// stepSeconds is step in whole seconds, at least one.
func stepSeconds(step time.Duration) int64 {
	return max(int64(step/time.Second), 1)
}

// serverBucket is one row of the downsampling query.
type serverBucket struct {
	Bucket      int64   `bun:"bucket"`
	Samples     int     `bun:"samples"`
	CPU         float64 `bun:"cpu"`
	Memory      float64 `bun:"memory"`
	MemoryMax   int64   `bun:"memory_max"`
	MemoryLimit int64   `bun:"memory_limit"`
	Pids        int64   `bun:"pids"`
	NetRx       int64   `bun:"net_rx"`
	NetTx       int64   `bun:"net_tx"`
	Disk        int64   `bun:"disk"`
}

// ServerMetrics returns a server's samples in [from, to), downsampled to
// one point per step (steps are aligned to multiples of step since the
// Unix epoch), oldest first. Steps without samples are absent.
func (s *Store) ServerMetrics(ctx context.Context, serverID string, from, to time.Time, step time.Duration) ([]ServerMetricPoint, error) {
	sec := stepSeconds(step)
	var rows []serverBucket
	// Averages are taken over DOUBLE PRECISION: PostgreSQL's AVG of a
	// BIGINT is NUMERIC, which would need a different scan per database.
	err := s.db.NewSelect().Model((*ServerMetric)(nil)).
		ColumnExpr("at / ? AS bucket", sec).
		ColumnExpr("COUNT(*) AS samples").
		ColumnExpr("AVG(cpu_percent) AS cpu").
		ColumnExpr("AVG(CAST(memory_bytes AS DOUBLE PRECISION)) AS memory").
		ColumnExpr("MAX(memory_bytes) AS memory_max").
		ColumnExpr("MAX(memory_limit_bytes) AS memory_limit").
		ColumnExpr("MAX(pids) AS pids").
		ColumnExpr("MAX(net_rx_bytes) AS net_rx").
		ColumnExpr("MAX(net_tx_bytes) AS net_tx").
		ColumnExpr("MAX(disk_bytes) AS disk").
		Where("server_id = ?", serverID).Where("at >= ?", from.Unix()).Where("at < ?", to.Unix()).
		GroupExpr("bucket").OrderExpr("bucket").
		Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("read server metrics: %w", mapError(err))
	}
	points := make([]ServerMetricPoint, 0, len(rows))
	for _, b := range rows {
		points = append(points, ServerMetricPoint{
			At: time.Unix(b.Bucket*sec, 0).UTC(), Samples: b.Samples, CPUPercent: b.CPU,
			MemoryBytes: int64(math.Round(b.Memory)), MemoryMaxBytes: b.MemoryMax, MemoryLimitBytes: b.MemoryLimit,
			Pids: b.Pids, NetRxBytes: b.NetRx, NetTxBytes: b.NetTx, DiskBytes: b.Disk,
		})
	}
	return points, nil
}

// nodeBucket is one row of the downsampling query.
type nodeBucket struct {
	Bucket      int64   `bun:"bucket"`
	Samples     int     `bun:"samples"`
	CPU         float64 `bun:"cpu"`
	MemoryUsed  float64 `bun:"memory_used"`
	MemoryMax   int64   `bun:"memory_max"`
	MemoryTotal int64   `bun:"memory_total"`
	DiskUsed    int64   `bun:"disk_used"`
	DiskTotal   int64   `bun:"disk_total"`
	Load1       float64 `bun:"load1"`
	Load5       float64 `bun:"load5"`
	Load15      float64 `bun:"load15"`
	Containers  int     `bun:"containers"`
}

// NodeMetrics returns a node's samples in [from, to) downsampled like
// ServerMetrics.
func (s *Store) NodeMetrics(ctx context.Context, nodeID string, from, to time.Time, step time.Duration) ([]NodeMetricPoint, error) {
	sec := stepSeconds(step)
	var rows []nodeBucket
	err := s.db.NewSelect().Model((*NodeMetric)(nil)).
		ColumnExpr("at / ? AS bucket", sec).
		ColumnExpr("COUNT(*) AS samples").
		ColumnExpr("AVG(cpu_percent) AS cpu").
		ColumnExpr("AVG(CAST(memory_used_bytes AS DOUBLE PRECISION)) AS memory_used").
		ColumnExpr("MAX(memory_used_bytes) AS memory_max").
		ColumnExpr("MAX(memory_total_bytes) AS memory_total").
		ColumnExpr("MAX(disk_used_bytes) AS disk_used").
		ColumnExpr("MAX(disk_total_bytes) AS disk_total").
		ColumnExpr("AVG(load1) AS load1").
		ColumnExpr("AVG(load5) AS load5").
		ColumnExpr("AVG(load15) AS load15").
		ColumnExpr("MAX(containers) AS containers").
		Where("node_id = ?", nodeID).Where("at >= ?", from.Unix()).Where("at < ?", to.Unix()).
		GroupExpr("bucket").OrderExpr("bucket").
		Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("read node metrics: %w", mapError(err))
	}
	points := make([]NodeMetricPoint, 0, len(rows))
	for _, b := range rows {
		points = append(points, NodeMetricPoint{
			At: time.Unix(b.Bucket*sec, 0).UTC(), Samples: b.Samples, CPUPercent: b.CPU,
			MemoryUsedBytes: int64(math.Round(b.MemoryUsed)), MemoryUsedMaxBytes: b.MemoryMax, MemoryTotalBytes: b.MemoryTotal,
			DiskUsedBytes: b.DiskUsed, DiskTotalBytes: b.DiskTotal,
			Load1: b.Load1, Load5: b.Load5, Load15: b.Load15, Containers: b.Containers,
		})
	}
	return points, nil
}

// DeleteMetricsBefore removes server and node samples older than t and
// returns how many rows went. It deletes in chunks of metricsDeleteChunk
// rows, each its own statement, so a large backlog never holds a long
// lock (on SQLite: the one write lock every other writer waits for).
func (s *Store) DeleteMetricsBefore(ctx context.Context, t time.Time) (int64, error) {
	var total int64
	for _, tbl := range []struct{ table, id string }{{"server_metrics", "server_id"}, {"node_metrics", "node_id"}} {
		for {
			res, err := s.db.NewRaw("DELETE FROM ? WHERE (?, at) IN (SELECT ?, at FROM ? WHERE at < ? LIMIT ?)",
				bun.Ident(tbl.table), bun.Ident(tbl.id), bun.Ident(tbl.id), bun.Ident(tbl.table), t.Unix(), metricsDeleteChunk).Exec(ctx)
			if err != nil {
				return total, fmt.Errorf("delete old %s: %w", tbl.table, mapError(err))
			}
			n, err := res.RowsAffected()
			if err != nil {
				return total, fmt.Errorf("delete old %s: %w", tbl.table, err)
			}
			total += n
			if n < metricsDeleteChunk {
				break
			}
		}
	}
	return total, nil
}

// Placement is where a server runs and the CPU it may use there.
type Placement struct {
	NodeID string
	// CPUPercent is the server's CPU limit (100 per core; 0 unlimited).
	CPUPercent int64
}

// ServerPlacements maps every server's ID to its placement.
func (s *Store) ServerPlacements(ctx context.Context) (map[string]Placement, error) {
	var rows []struct {
		ID         string `bun:"id"`
		NodeID     string `bun:"node_id"`
		CPUPercent int64  `bun:"cpu_percent"`
	}
	if err := s.db.NewSelect().Model((*Server)(nil)).Column("id", "node_id", "cpu_percent").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("list server placements: %w", mapError(err))
	}
	out := make(map[string]Placement, len(rows))
	for _, r := range rows {
		out[r.ID] = Placement{NodeID: r.NodeID, CPUPercent: r.CPUPercent}
	}
	return out, nil
}

// CountServersByState counts servers per state; states without servers
// are absent.
func (s *Store) CountServersByState(ctx context.Context) (map[string]int, error) {
	var rows []struct {
		State string `bun:"state"`
		N     int    `bun:"n"`
	}
	if err := s.db.NewSelect().Model((*Server)(nil)).Column("state").ColumnExpr("COUNT(*) AS n").
		Group("state").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count servers by state: %w", mapError(err))
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out, nil
}
