package servers

import "catalyst.dev/sdk/wire"

// Message tells the server's viewers something (level is wire.Level*): a
// restart after a crash, a disk quota warning. It is published, not kept in
// the console history.
func (m *Manager) Message(id, level, text string) {
	m.pub.Publish(wire.EventDaemonMessage, wire.DaemonMessage{ServerID: id, Level: level, Message: text})
}
