// Package web is vpcflow's browser console: the pages a person uses to look
// at the service's network, create flow logs with the fields AWS's wizard
// asks for, read the delivered events, run Logs Insights and SQL queries,
// and watch alarms.
//
// It exists so that the service can be used without awscli while staying a
// thin client: every page reads and changes the service through a small set
// of JSON endpoints (POST /console/api/NAME) that call the same methods of
// *region.Region, *logsvc.Service and package sql that the AWS API calls.
// The console holds no state of its own besides who is signed in.
//
// The pages are plain HTML, CSS and JavaScript modules embedded in the
// binary (static/), so there is no build step. Sign-in takes the service's
// access key id and secret (the key pair the AWS API verifies signatures
// with) and gives an HttpOnly, SameSite=Strict sign-in cookie. Every
// endpoint but sign-in needs the cookie, and every endpoint needs a JSON
// body and the X-Vpcflow-Console header, which a cross-site form cannot
// send, so another site cannot act with the cookie.
package web
