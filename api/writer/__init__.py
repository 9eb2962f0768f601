"""The writer process of `carbonledger serve --workers N` (PostgreSQL): one process applies the
writes of every HTTP worker, gathered into transactions by a group committer.

- protocol.py: the channel between the workers and the writer (frames over a Unix socket);
- server.py: the writer process itself;
- client.py: the workers' committer, which hands submissions to it;
- supervisor.py: how `serve` starts it, starts it again when it dies, and stops it.
"""
