"""The data half of the pipeline: fetch, split, augment, and the shard format."""
