module github.com/zkc-project/zkc/bench/peers/zkcgo

go 1.23

require github.com/zkc-project/zkc/bindings/go v0.0.0

replace github.com/zkc-project/zkc/bindings/go => ../../../bindings/go
