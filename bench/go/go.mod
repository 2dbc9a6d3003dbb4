module goferbench

go 1.19
