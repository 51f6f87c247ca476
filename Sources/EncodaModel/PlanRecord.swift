/// One chunk of a plan that streams (`JobManifest.planStreaming`): published by the coordinator as
/// `TMP/plan/NNNNN.json`, once, in plan order, as soon as `StreamingPlanner` returns the chunk, so workers can encode
/// it while later analysis segments are still being measured. It carries the chunk's share of the plan's decisions
/// (`JobPlan`): its frame index slice and its cost. The record of the last chunk says so: a view that has read it
/// holds the whole plan, exactly as job.json would have held it had the coordinator planned from the whole analysis.
public struct PlanRecord: Codable, Sendable, Hashable {
    public var jobID: String
    public var chunk: Chunk
    public var slice: FrameIndexSlice
    /// The chunk's relative encode cost (`ChunkPlanner.estimatedCosts`); nil when the index has no packet sizes.
    public var cost: Double?
    /// This is the plan's last chunk.
    public var last: Bool

    public init(jobID: String, chunk: Chunk, slice: FrameIndexSlice, cost: Double?, last: Bool) {
        self.jobID = jobID; self.chunk = chunk; self.slice = slice; self.cost = cost; self.last = last
    }

    /// The records of `chunks` (consecutive, in plan order) planned on `index`; `complete`: the last of them ends
    /// the plan.
    public static func make(jobID: String, chunks: [Chunk], index: FrameIndex, complete: Bool) -> [PlanRecord] {
        let costs = ChunkPlanner.estimatedCosts(chunks, packetSizes: index.packetSizes)
        return chunks.enumerated().map { i, c in
            PlanRecord(jobID: jobID, chunk: c, slice: FrameIndexSlice.of(index, range: c.range, reliable: index.timestampsReliable),
                       cost: costs?[i], last: complete && i == chunks.count - 1)
        }
    }
}

extension JobManifest {
    /// This view of a streaming plan with `records` (the chunks after the ones it holds, in order) added: chunks,
    /// slices, costs and the work order as `JobPlanner.plan` makes them; once the last chunk is in, `planStreaming`
    /// is cleared and the view is a whole plan. Throws when a record does not continue the plan.
    public func appending(_ records: [PlanRecord]) throws -> JobManifest {
        guard !records.isEmpty else { return self }
        guard planStreaming == true, var plan else {
            throw EncodaError(.stateCorrupt, "TMP/plan holds chunks for job \(jobID), whose plan does not stream; remove the job with `encoda clean TMP`")
        }
        var m = self
        for r in records {
            guard r.jobID == jobID, r.chunk.id == m.chunks.count, m.planStreaming == true else {
                throw EncodaError(.stateCorrupt, "TMP/plan/\(Chunk.name(r.chunk.id)).json does not continue the plan of job \(jobID); remove the job with `encoda clean TMP` or re-run with --restart")
            }
            m.chunks.append(r.chunk)
            plan.slices.append(r.slice)
            if plan.costs != nil, let cost = r.cost { plan.costs?.append(cost) } else { plan.costs = nil }
            if r.last { m.planStreaming = nil }
        }
        plan.claimOrder = ChunkPlanner.workOrder(m.chunks, costs: plan.costs).map(\.id)
        m.plan = plan
        try m.validate()
        return m
    }
}
