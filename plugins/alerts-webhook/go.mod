module catalyst.dev/plugins/alerts-webhook

go 1.26
