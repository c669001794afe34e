module github.com/zkc-project/zkc/bindings/go

go 1.23

require go.uber.org/goleak v1.3.0
