"""python -m session_counter.bench: the benchmark without the flask command."""

from .cli import bench_command

if __name__ == "__main__":
    bench_command()
