module catalyst.dev/plugins/backup-s3

go 1.26
