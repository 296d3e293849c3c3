"""The guide's Python client example, class unchanged, driven against a
running zarrbench service. Usage: python3 guide_client.py BASE_URL

Only the usage at the bottom differs from the guide: a 32^3 synthetic volume
and a short poll interval keep the test quick.
"""
import requests
import time
import json
import sys


class BenchmarkClient:
    def __init__(self, base_url="http://localhost:8080"):
        self.base_url = base_url

    def submit_benchmark(self, dataset_type, shape, voxel_size=None,
                         compression_profile="balanced"):
        """Submit a benchmark job."""
        data = {
            "dataset_type": dataset_type,
            "shape": shape,
            "compression_profile": compression_profile
        }
        if voxel_size:
            data["voxel_size"] = voxel_size

        response = requests.post(
            f"{self.base_url}/benchmark",
            json=data
        )
        response.raise_for_status()
        return response.json()

    def get_status(self, job_id):
        """Get status of a benchmark job."""
        response = requests.get(f"{self.base_url}/status/{job_id}")
        response.raise_for_status()
        return response.json()

    def wait_for_completion(self, job_id, poll_interval=5, timeout=300):
        """Wait for job to complete."""
        start_time = time.time()

        while time.time() - start_time < timeout:
            status_data = self.get_status(job_id)
            status = status_data["status"]

            if status == "completed":
                return status_data
            elif status == "failed":
                raise Exception(f"Job failed: {status_data.get('error')}")

            time.sleep(poll_interval)

        raise TimeoutError(f"Job did not complete within {timeout}s")


if __name__ == "__main__":
    client = BenchmarkClient(sys.argv[1])

    result = client.submit_benchmark(
        dataset_type="cryoet",
        shape=[32, 32, 32],
        voxel_size=[2.5, 2.5, 2.5],
        compression_profile="fast"
    )

    job_id = result["job_id"]
    final_result = client.wait_for_completion(job_id, poll_interval=0.1, timeout=120)

    print(json.dumps(final_result["results"]["recommendations"], indent=2))
