import os

# Same single-thread settings as the sweep workers, so in-process runs match pooled runs.
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)
