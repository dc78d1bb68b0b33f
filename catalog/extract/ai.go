package extract

// aiAPIs are the AI vendors' request shapes.
var aiAPIs = []API{}
