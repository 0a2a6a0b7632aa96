//go:build !linux

package atomicfile

import "os"

func openNameless(string) (*os.File, error) { return nil, errNoNameless }

func linkNameless(*os.File, string, string) (string, error) { return "", errNoNameless }
