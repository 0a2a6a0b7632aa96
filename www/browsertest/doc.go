// Package browsertest drives the page (shark/www) in Debian's Chromium
// through chromedp. It is a module of its own so that the browser driver
// is no dependency of shark's: ./build.sh test runs it.
package browsertest
