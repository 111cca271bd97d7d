module catalyst.dev/plugins/backup-local

go 1.26
