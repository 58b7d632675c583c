# Starter profile without any NAT: the worker and flow runs run in the public subnets with public IPs.
# Security groups still allow no inbound traffic; the credential stays in Secrets Manager; logs keep
# their retention. Use it: mkdir -p environments && cp examples/starter-public.tfvars environments/starter.tfvars, then
# npm run cost -- starter (about $8.00 a month at us-east-1 list prices; docs/cost.md: "The starter profile").

internet_egress = "public_subnets" # tasks reach Prefect and AWS over their own public IPs

worker_cpu              = 256
worker_memory           = 512
worker_cpu_architecture = "ARM64"
worker_capacity         = "fargate_spot"
container_insights      = false
flow_run_spot           = true
