// Package bff serves Treue's Connect API: it authenticates every call,
// validates and converts requests, calls the loyalty domain and maps its
// errors to Connect codes. It holds no rules of its own.
//
// The handlers speak Connect, gRPC and gRPC-Web on one port.
package bff
