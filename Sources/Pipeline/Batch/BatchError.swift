/// Errors of the batch command as a whole (bad arguments, an unreadable list, a record folder
/// that cannot be written); each describes itself in one line. A bad *input* is not one of
/// these: it is recorded as failed and the batch goes on.
public enum BatchError: Error, CustomStringConvertible, Sendable, Equatable {
    case badShard(String)
    case shardsNeeded(variable: String)
    case badEnvironment(variable: String, value: String, reason: String)
    case unreadableList(path: String, reason: String)
    case cannotCreateFolder(path: String, reason: String)
    case cannotWriteRecord(path: String, reason: String)
    case noRecords(folder: String)

    public var description: String {
        switch self {
        case let .badShard(reason): "invalid shard: \(reason)"
        case let .shardsNeeded(variable):
            "\(variable) is set but the number of shards is not: pass --shards N (the number of completions)"
        case let .badEnvironment(variable, value, reason): "\(variable)=\(value): \(reason)"
        case let .unreadableList(path, reason): "cannot read the list \(path): \(reason)"
        case let .cannotCreateFolder(path, reason): "cannot create the folder \(path): \(reason)"
        case let .cannotWriteRecord(path, reason): "cannot write the record file \(path): \(reason)"
        case let .noRecords(folder): "\(folder) holds no batch record file (batch.jsonl or batch-shard-*.jsonl)"
        }
    }
}
