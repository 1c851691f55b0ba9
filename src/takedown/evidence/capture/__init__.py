"""The capture engine: fetch a page and its media through ``kit.http``, write WARC, extract text."""
