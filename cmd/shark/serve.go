package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"shark/www"
)

func webHandler() (http.Handler, error) {
	static := www.Static()
	if _, err := fs.Stat(static, "shark.wasm"); err != nil {
		return nil, errors.New("this binary was built without the WebAssembly core: build it with ./build.sh")
	}
	return www.Handler(static), nil
}

func (c *cli) serveCmd() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "the in-browser inspector, served from this binary",
		Long: `Serves the in-browser inspector from this binary: the page and shark's core
compiled to WebAssembly. Open the printed address, drop a model file, see its
tensors, choose a budget, compress and download. The file is read inside the
browser tab and never sent anywhere, this server included. Ctrl-C stops it.

--json prints {url} once the server listens.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			h, err := webHandler()
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			url := fmt.Sprintf("http://%s/", ln.Addr())
			if c.json {
				c.result(map[string]string{"url": url})
			} else {
				fmt.Fprintf(c.stdout, "shark inspector at %s (Ctrl-C to stop)\n", url)
			}
			srv := newServer(h)
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "the address to listen on")
	return cmd
}

// newServer is the inspector's server: it serves a handful of static files,
// so a client that is slow to send its request, read the answer or reuse
// its connection is cut off, and request headers are small.
func newServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 2 * time.Minute, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10}
}
