module github.com/zkc-project/zkc/examples/demo/go

go 1.23

require github.com/zkc-project/zkc/bindings/go v0.0.0

replace github.com/zkc-project/zkc/bindings/go => ../../../bindings/go
