module github.com/tlsclient/tlsclient/examples/grpc

go 1.26.8

require (
	github.com/tlsclient/tlsclient v0.0.0
	google.golang.org/grpc v1.85.0
)

require (
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260817212433-ac3dfec99bb1 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace github.com/tlsclient/tlsclient => ../..
