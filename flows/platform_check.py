"""One flow that proves the platform: it logs, reports the image and ECS task it runs in, and, with EFS
mounted, writes and reads back a file there. Copy this project and replace the flow with your own."""

import json
import os
import socket
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, get_run_logger, task


def ecs_task_metadata():
    """The ECS task metadata endpoint (v4), present in every Fargate container; None outside ECS."""
    base = os.environ.get("ECS_CONTAINER_METADATA_URI_V4")
    if not base:
        return None
    with urllib.request.urlopen(f"{base}/task", timeout=5) as response:
        return json.load(response)


@task
def report_runtime():
    logger = get_run_logger()
    metadata = ecs_task_metadata()
    if metadata is None:
        logger.info("Not on ECS (no task metadata endpoint); host %s", socket.gethostname())
        return {"image": os.environ.get("FLOW_IMAGE", "unknown"), "task_arn": None}
    container = next((c for c in metadata.get("Containers", []) if c.get("Name") == "prefect"), {})
    runtime = {
        "image": container.get("Image") or os.environ.get("FLOW_IMAGE", "unknown"),
        "task_arn": metadata.get("TaskARN"),
        "availability_zone": metadata.get("AvailabilityZone"),
        "launch_type": metadata.get("LaunchType"),
    }
    logger.info("Running in image %s, task %s (%s)", runtime["image"], runtime["task_arn"], runtime["availability_zone"])
    return runtime


@task
def check_efs(mount_path):
    logger = get_run_logger()
    if not mount_path:
        logger.info("EFS is not mounted (flow_run_efs = false); skipping the file check")
        return None
    marker = Path(mount_path) / "platform-check" / f"{socket.gethostname()}.txt"
    marker.parent.mkdir(parents=True, exist_ok=True)
    written = f"written at {datetime.now(timezone.utc).isoformat()}"
    marker.write_text(written)
    read = marker.read_text()
    if read != written:
        raise RuntimeError(f"read back {read!r} from {marker}, expected {written!r}")
    logger.info("Wrote and read back %s", marker)
    return str(marker)


@flow(name="platform-check", log_prints=True)
def platform_check():
    runtime = report_runtime()
    efs_file = check_efs(os.environ.get("EFS_MOUNT_PATH", ""))
    print(f"platform check passed: image={runtime['image']} task={runtime['task_arn']} efs_file={efs_file}")
    return {**runtime, "efs_file": efs_file}


if __name__ == "__main__":
    platform_check()
