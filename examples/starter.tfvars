# Starter profile: one always-on Prefect worker at the lowest price that still keeps
#   - no inbound traffic anywhere, and no public IP on any task (egress through one NAT instance),
#   - the Prefect credential only in Secrets Manager,
#   - logs with retention.
# Use it: mkdir -p environments && cp examples/starter.tfvars environments/starter.tfvars, then npm run cost -- starter
# (about $11.91 a month at us-east-1 list prices; docs/cost.md: "The starter profile").

internet_egress = "nat_instance" # one t4g.nano instead of a NAT gateway ($36.50 a month)

# The smallest Fargate size, on ARM and Spot. Spot may stop the worker with two minutes' notice; ECS
# starts another, and flow runs already started keep running. Raise worker_memory to 1024 if the
# worker is ever stopped with exit code 137 (out of memory).
worker_cpu              = 256
worker_memory           = 512
worker_cpu_architecture = "ARM64"
worker_capacity         = "fargate_spot"

# Container Insights is billed per metric (about $11.70 a month for one worker); the service's own
# CPU and memory metrics stay free.
container_insights = false

# Flow runs on Spot too (billed per run).
flow_run_spot = true
