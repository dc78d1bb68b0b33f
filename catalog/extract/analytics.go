package extract

// analyticsAPIs are the analytics and telemetry vendors' request shapes.
var analyticsAPIs = []API{}
