package main

// The object stores a cluster's data lives in: paths under gs:// and s3://
// are read and written through Beam's own filesystems (credentials from
// the environment, as the cloud SDKs find them). Local paths are
// registered by the pipelines package.
import (
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/s3"
)
