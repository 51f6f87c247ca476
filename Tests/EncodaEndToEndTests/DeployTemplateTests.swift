import Foundation
import XCTest

/// The scheduler templates in deploy/, checked without the engines (Kubernetes and OpenCue cannot run here; Slurm
/// runs for real in scripts/slurm/test-slurm.sh): each file is what `encoda submit-spec` prints, the YAML parses
/// with PyYAML and has the fields its README promises, the outline script dry-runs against PyPI's pyoutline, and
/// the sbatch scripts pass `bash -n`.
final class DeployTemplateTests: XCTestCase {
    private let deploy = Tool.packageRoot.appendingPathComponent("deploy").path
    /// PyYAML and opencue-pyoutline live in scripts/setup.sh's venv.
    private var python: String { ProcessInfo.processInfo.environment["ENCODA_DEPLOY_PYTHON"] ?? "/opt/encoda-deploy-venv/bin/python" }

    private func runPython(_ script: String, _ args: [String] = [], environment: [String: String] = [:]) throws -> Tool.Result {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            XCTFail("\(python) not found: the deploy template tests need PyYAML and opencue-pyoutline (scripts/setup.sh installs them)")
            return Tool.Result(status: -1, stdout: "", stderr: "")
        }
        return try Tool.run(python, ["-c", script] + args, environment: environment)
    }

    func testTheDeployFilesAreWhatSubmitSpecPrints() throws {
        let example = ["/shared/jobs/job1", "--workers", "8", "--threads", "2"]
        for (engine, file) in [("slurm", "slurm/encoda-workers.sbatch"), ("opencue", "opencue/encoda_workers.py"),
                               ("kubernetes", "kubernetes/workers-job.yaml")] {
            let r = try Tool.mustRun(Tool.encoda, ["submit-spec", engine] + example)
            XCTAssertEqual(r.stdout, try String(contentsOfFile: deploy + "/" + file, encoding: .utf8),
                           "deploy/\(file) differs from `encoda submit-spec \(engine) \(example.joined(separator: " "))`: regenerate it")
        }
        let bad = try Tool.encoda(["submit-spec", "slurm", "relative/tmp"])
        XCTAssertEqual(bad.status, 64, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("absolute path"), bad.stderr)
        let outside = try Tool.encoda(["submit-spec", "kubernetes", "/mnt/jobs/job1"])
        XCTAssertEqual(outside.status, 64, outside.stderr)
        XCTAssertTrue(outside.stderr.contains("must be under --mount-path /shared"), outside.stderr)
        for file in ["slurm/encoda-workers.sbatch", "slurm/encoda-coordinator.sbatch"] {
            let r = try Tool.run("bash", ["-n", deploy + "/" + file])
            XCTAssertEqual(r.status, 0, "\(file): \(r.stderr)")
        }
        let slurm = try Tool.mustRun(Tool.encoda, ["submit-spec", "slurm", "/shared/my jobs/it's", "--workers", "3", "--threads", "4"]).stdout
        XCTAssertTrue(slurm.contains("#SBATCH --array=0-2\n"), slurm)
        XCTAssertTrue(slurm.contains("#SBATCH --cpus-per-task=4\n"), slurm)
        XCTAssertTrue(slurm.contains("exec encoda worker '/shared/my jobs/it'\\''s' --workers 1 --threads 4 --exit-when-idle --log-stdout\n"), slurm)
    }

    func testKubernetesManifestsParseAndHoldWhatTheReadmePromises() throws {
        let printed = Scratch()
        let job3 = printed.file("job3.yaml")
        try Tool.mustRun(Tool.encoda, ["submit-spec", "kubernetes", "/shared/jobs/a b", "--workers", "3", "--threads", "2",
                                       "--grace-period", "900"]).stdout.write(toFile: job3, atomically: true, encoding: .utf8)
        let check = """
        import sys, yaml
        def docs(path):
            with open(path) as f: return [d for d in yaml.safe_load_all(f) if d]
        k = sys.argv[1]
        pv, pvc = docs(k + "/storage.yaml")
        assert pv["kind"] == "PersistentVolume" and pv["spec"]["accessModes"] == ["ReadWriteMany"], pv
        assert pv["spec"]["nfs"]["server"] and pv["spec"]["nfs"]["path"], pv
        assert pvc["kind"] == "PersistentVolumeClaim" and pvc["spec"]["accessModes"] == ["ReadWriteMany"], pvc
        assert pvc["spec"]["volumeName"] == pv["metadata"]["name"] == pvc["metadata"]["name"] == "encoda-shared"
        def pod(d, args_has):
            spec = d["spec"]["template"]["spec"]
            sc = spec["securityContext"]
            assert sc["runAsNonRoot"] is True and sc["runAsUser"] != 0 and sc["fsGroup"] == sc["runAsGroup"], sc
            assert spec["terminationGracePeriodSeconds"] >= 60, spec
            c, = spec["containers"]
            assert c["command"] == ["encoda"] and all(a in c["args"] for a in args_has), c["args"]
            assert c["volumeMounts"] == [{"name": "shared", "mountPath": "/shared"}], c
            assert spec["volumes"] == [{"name": "shared", "persistentVolumeClaim": {"claimName": "encoda-shared"}}]
            return spec, c
        coord, = docs(k + "/coordinator-job.yaml")
        assert coord["kind"] == "Job"
        _, c = pod(coord, [])
        assert c["args"][c["args"].index("--workers") + 1] == "0", c["args"]
        job, = docs(k + "/workers-job.yaml")
        assert job["kind"] == "Job" and job["spec"]["completionMode"] == "Indexed"
        assert job["spec"]["parallelism"] == job["spec"]["completions"] == 8, job["spec"]
        spec, c = pod(job, ["worker", "/shared/jobs/job1", "--exit-when-idle", "--log-stdout"])
        assert c["args"][c["args"].index("--threads") + 1] == "2" and c["resources"]["limits"]["cpu"] == "2", c
        assert {"name": "ENCODA_WORKER_NAME", "value": "k8s:$(POD_NAME)"} in c["env"], c["env"]
        dep, = docs(k + "/workers-deployment.yaml")
        assert dep["kind"] == "Deployment" and dep["spec"]["replicas"] >= 1
        assert dep["spec"]["selector"]["matchLabels"] == dep["spec"]["template"]["metadata"]["labels"]
        pod(dep, ["worker", "/shared/jobs", "--watch", "--log-stdout"])
        printed, = docs(sys.argv[2])
        assert printed["spec"]["parallelism"] == 3, printed["spec"]
        spec, c = pod(printed, ["/shared/jobs/a b", "--exit-when-idle"])
        assert spec["terminationGracePeriodSeconds"] == 900
        print("kubernetes ok")
        """
        let r = try runPython(check, [deploy + "/kubernetes", job3])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "kubernetes ok\n")
    }

    func testTheOpenCueOutlineDryRunsAgainstPyoutline() throws {
        let home = Scratch() // pyoutline writes its session folder under $HOME/.opencue
        let check = """
        import subprocess, sys, xml.etree.ElementTree as Et
        spec = subprocess.run([sys.executable, sys.argv[1], "--dry-run", "--show", "films", "--shot", "sh010"],
                              check=True, capture_output=True, text=True).stdout
        root = Et.fromstring(spec.split("?>", 1)[1].split(">", 1)[1] if spec.startswith("<?xml") else spec)
        assert root.findtext("show") == "films" and root.findtext("shot") == "sh010", spec
        job = root.find("job")
        assert job.get("name") == "encoda-job1", job.attrib
        layers = job.findall("layers/layer")
        assert len(layers) == 1, spec
        l = layers[0]
        assert l.get("name") == "workers" and l.findtext("range") == "1-8" and l.findtext("chunk") == "1", spec
        assert l.findtext("cores") == "2.0", spec
        assert l.findtext("cmd") == sys.argv[2], (l.findtext("cmd"), sys.argv[2])
        print("opencue ok")
        """
        let cmd = "encoda worker /shared/jobs/job1 --workers 1 --threads 2 --exit-when-idle --log-stdout"
        let r = try runPython(check, [deploy + "/opencue/encoda_workers.py", cmd], environment: ["HOME": home.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "opencue ok\n")
    }
}
