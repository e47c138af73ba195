// swift-tools-version:6.0
// A Swift module as an outside author writes it: built against the installed
// meetingd-dev alone (Tests/systemd/run.sh builds it inside the test's systemd).
import PackageDescription

let package = Package(
    name: "echo",
    products: [.library(name: "echo", type: .dynamic, targets: ["Echo"])],
    dependencies: [.package(path: "/usr/share/meetingd/MeetingKit")],
    targets: [.target(name: "Echo", dependencies: [.product(name: "MeetingKit", package: "MeetingKit")])]
)
