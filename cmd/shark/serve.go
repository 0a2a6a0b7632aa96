package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"

	"shark/www"
)

func webHandler() (http.Handler, error) {
	static := www.Static()
	if _, err := fs.Stat(static, "shark.wasm"); err != nil {
		return nil, errors.New("this binary was built without the WebAssembly core: build it with ./build.sh")
	}
	return www.Handler(static), nil
}

func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "[--addr 127.0.0.1:8080]", `
Serves the in-browser inspector from this binary: the page and shark's core
compiled to WebAssembly. Open the printed address, drop a model file, see its
tensors, choose a budget, compress and download. The file is read inside the
browser tab and never sent anywhere, this server included.`, stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return fmt.Errorf("%w: serve takes no arguments", errUsage)
	}
	h, err := webHandler()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "shark inspector at http://%s/ (Ctrl-C to stop)\n", ln.Addr())
	srv := &http.Server{Handler: h}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	go func() { <-stop; srv.Close() }()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
