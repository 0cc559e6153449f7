"""What safety costs: the benchmark's command, its load generators and its report."""
