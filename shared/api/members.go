package api

import "net/http"

func (s *Server) registerMembers(mux *http.ServeMux) {}
