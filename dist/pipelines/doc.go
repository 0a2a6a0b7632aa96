// Package pipelines holds SHARK's passes over data beyond one machine as
// Apache Beam pipelines: access counts from many log files, Taylor scores
// of data that does not fit one machine, and a table stored as row shards
// quantized under one budget. The same code runs on Beam's in-process prism
// runner (tests, and the default) and on a team's Flink, Spark or Dataflow
// cluster; files are read and written through Beam's filesystem.
package pipelines
