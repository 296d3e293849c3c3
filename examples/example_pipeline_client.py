#!/usr/bin/env python3
"""Submit one benchmark job to a zarrbench service, wait for it, and print
which Zarr compression it recommends.

    python3 example_pipeline_client.py --dataset cryoet --shape 256,256,256 \\
        --voxel-size 2.5,2.5,2.5 --profile balanced

BenchmarkClient offers submit_benchmark, get_status and wait_for_completion,
ready for a pipeline: it sends an API key, turns the service's JSON errors
into a ServiceError with the stable `code`, waits out 429 answers for as long
as their Retry-After says, and stops on a failed or cancelled job.

Exit status: 0 when the job completed, 1 when it failed, was cancelled or did
not finish within --timeout, 2 when the service refused a request or could
not be reached (and for bad arguments).

Needs only the `requests` package.
"""

import argparse
import os
import sys
import time

import requests

# Longest wait for one Retry-After, so a misconfigured service cannot park
# the script for an hour.
MAX_RETRY_WAIT_SECONDS = 120
# Refused answers (429, or 503 with Retry-After) waited out before giving up.
MAX_RETRIES = 5


class ServiceError(Exception):
    """The service answered with an error status and its JSON error body."""

    def __init__(self, status, code, message):
        super().__init__(f"{code}: {message} (HTTP {status})")
        self.status = status
        self.code = code
        self.message = message


class JobEnded(Exception):
    """The job failed or was cancelled: it will never have results."""

    def __init__(self, status_data):
        state = status_data.get("status")
        reason = status_data.get("error") or "no reason given"
        super().__init__(f"job {status_data.get('job_id')} {state}: {reason}")
        self.status_data = status_data


class BenchmarkClient:
    def __init__(self, base_url="http://localhost:8080", api_key=None,
                 request_timeout=30):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        if api_key:
            self.session.headers["Authorization"] = f"Bearer {api_key}"
        self.request_timeout = request_timeout

    def submit_benchmark(self, dataset_type, shape, voxel_size=None,
                         compression_profile="balanced", data_path=None):
        """Submit a benchmark job; returns the service's answer
        (`job_id`, `status`, `message`)."""
        data = {
            "dataset_type": dataset_type,
            "shape": shape,
            "compression_profile": compression_profile,
        }
        if voxel_size:
            data["voxel_size"] = voxel_size
        if data_path:
            data["data_path"] = data_path
        return self._request("POST", "/benchmark", json=data)

    def get_status(self, job_id):
        """Get status of a benchmark job."""
        return self._request("GET", f"/status/{job_id}")

    def wait_for_completion(self, job_id, poll_interval=5, timeout=300,
                            on_progress=None):
        """Poll until the job completes and return its status object.

        Raises JobEnded when the job failed or was cancelled and TimeoutError
        when it is still pending or running after `timeout` seconds.
        """
        start_time = time.monotonic()
        seen = None

        while time.monotonic() - start_time < timeout:
            status_data = self.get_status(job_id)
            status = status_data["status"]
            progress = status_data.get("progress") or {}
            current = (status, progress.get("done"), progress.get("total"))
            if on_progress and current != seen:
                on_progress(*current)
            seen = current

            if status == "completed":
                return status_data
            if status in ("failed", "cancelled"):
                raise JobEnded(status_data)

            time.sleep(poll_interval)

        raise TimeoutError(f"job {job_id} did not complete within {timeout} s")

    def _request(self, method, path, **kwargs):
        """Send a request and return its JSON body; waits out 429 (and 503
        with Retry-After) up to MAX_RETRIES times."""
        url = f"{self.base_url}{path}"
        retries = 0
        while True:
            response = self.session.request(
                method, url, timeout=self.request_timeout, **kwargs)
            retry_after = _retry_after_seconds(response)
            busy = response.status_code == 429 or (
                response.status_code == 503 and retry_after is not None)
            if busy and retries < MAX_RETRIES:
                wait = min(retry_after or 1, MAX_RETRY_WAIT_SECONDS)
                code, _ = _error_of(response)
                log(f"service busy ({code}); retrying in {wait} s")
                time.sleep(wait)
                retries += 1
                continue
            if not response.ok:
                code, message = _error_of(response)
                raise ServiceError(response.status_code, code, message)
            try:
                return response.json()
            except ValueError:
                raise ServiceError(
                    response.status_code, "unexpected-answer",
                    f"{url} did not answer JSON; is it a zarrbench service?")


def _retry_after_seconds(response):
    """Retry-After in whole seconds, or None when absent or not a number."""
    value = response.headers.get("Retry-After", "").strip()
    return int(value) if value.isdigit() else None


def _error_of(response):
    """The `code` and `error` of the service's JSON error body."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = body.get("code") or f"http-{response.status_code}"
    message = body.get("error") or response.reason or "no message"
    return code, message


def log(text):
    print(text, file=sys.stderr, flush=True)


def integers(text):
    """`256,256,256` as a list of integers, for --shape."""
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as 256,256,256, got {text!r}")


def numbers(text):
    """`2.5,2.5,2.5` as a list of floats, for --voxel-size."""
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers such as 2.5,2.5,2.5, got {text!r}")


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        description="Benchmark Zarr compression for one kind of volume on a "
                    "zarrbench service and print its recommendations.")
    parser.add_argument("--server", default="http://localhost:8080",
                        help="base URL of the service (default %(default)s)")
    parser.add_argument("--api-key", default=os.environ.get("BENCHMARK_API_KEY"),
                        help="sent as 'Authorization: Bearer KEY' (default: "
                             "$BENCHMARK_API_KEY, its first key if it lists several)")
    parser.add_argument("--dataset", default="cryoet",
                        help="dataset_type: cryoet, light_sheet, confocal, "
                             "two_photon, widefield, sem, sted, palm_storm, "
                             "synthetic or custom (default %(default)s)")
    parser.add_argument("--shape", type=integers, default=[256, 256, 256],
                        help="volume shape, e.g. 256,256,256 (default 256,256,256)")
    parser.add_argument("--profile", default="balanced",
                        help="compression_profile: archival, balanced, fast, "
                             "lossless or analysis (default %(default)s)")
    parser.add_argument("--voxel-size", type=numbers,
                        help="physical voxel size per axis, e.g. 2.5,2.5,2.5")
    parser.add_argument("--data-path",
                        help="benchmark this file under the service's data "
                             "directory instead of a generated volume")
    parser.add_argument("--poll-interval", type=float, default=5.0,
                        help="seconds between status requests (default %(default)s)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds to wait for the job (default %(default)s)")
    arguments = parser.parse_args(argv)
    if arguments.api_key:
        keys = [key.strip() for key in arguments.api_key.split(",") if key.strip()]
        arguments.api_key = keys[0] if keys else None
    return arguments


def print_results(results):
    """The recommendation per profile, then the highest-ratio configuration."""
    details = results.get("recommendation_details") or {}
    print("Recommendations:")
    for profile, pick in sorted((results.get("recommendations") or {}).items()):
        detail = details.get(profile) or {}
        figures = ""
        if detail:
            figures = (f"  ({detail.get('config_id')}: ratio {detail.get('ratio'):.3f}, "
                       f"write {detail.get('write_mbps'):.0f} MB/s, "
                       f"read {detail.get('read_mbps'):.0f} MB/s)")
        print(f"  {profile:<9} {pick:<16}{figures}")

    best = results.get("best_compression")
    if best:
        level = "" if best.get("codec") == "none" else f" level {best.get('level')}"
        print(f"Best compression: {best.get('config_id')} ({best.get('codec')}{level}, "
              f"ratio {best.get('ratio'):.3f}, write {best.get('write_time'):.4f} s, "
              f"read {best.get('read_time'):.4f} s)")
    else:
        print("Best compression: none (no configuration round-tripped)")


def show_progress(status, done, total):
    if total:
        log(f"  {status}: {done}/{total} configurations")
    else:
        log(f"  {status}")


def main(argv=None):
    arguments = parse_arguments(argv)
    client = BenchmarkClient(arguments.server, api_key=arguments.api_key)

    try:
        log("Submitting benchmark job...")
        submitted = client.submit_benchmark(
            dataset_type=arguments.dataset,
            shape=arguments.shape,
            voxel_size=arguments.voxel_size,
            compression_profile=arguments.profile,
            data_path=arguments.data_path,
        )
        job_id = submitted["job_id"]
        print(f"Job submitted: {job_id}", flush=True)

        log("Waiting for completion...")
        final = client.wait_for_completion(
            job_id, poll_interval=arguments.poll_interval,
            timeout=arguments.timeout, on_progress=show_progress)
    except ServiceError as error:
        print(f"error: {error.code}: {error.message} (HTTP {error.status})",
              file=sys.stderr)
        return 2
    except requests.RequestException as error:
        print(f"error: cannot reach the service at {arguments.server}: {error}",
              file=sys.stderr)
        return 2
    except (JobEnded, TimeoutError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    results = final["results"]
    if results.get("cached_from"):
        print(f"(answered from the results of job {results['cached_from']})")
    print_results(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
